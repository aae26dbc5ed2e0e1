import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { GUEST_AGENT_PORT_NAME, CONTROL_PORT_NAME } from "../src/vmd/control-port.js";
import { loadGeneration, type Generation } from "../src/vmd/generation.js";
import { spawnUntilReady } from "../test/helpers/bare-qemu.js";
import { testGuestPaths } from "../test/helpers/test-guest.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { buildClosureGeneration } from "./closure-generation.js";
import { median, percentile } from "./stats.js";
import { QEMU, withVmd, type VmdFixture } from "./vmd-fixture.js";

// Cold start of clan-vmd with everything it sets up around a VM, against the plain QEMU command a user would
// type for the same guest, side by side in one run (docs/benchmarks.md, "vmd-cold-start"):
// - bare: qemu-system-x86_64 with the same kernel, initrd, kernel parameters, memory, cores and state disk, and
//   the virtio ports the guest speaks on; no seccomp sandbox, no setpriv, no per-network uid, no restrict=on, no
//   store share, no virtiofsd. Timed from spawn to the guest's ready line on the control port.
// - clan-vmd: a D-Bus Start of a generation built by the real Nix whose closure has CLOSURE_PATHS + 1 store paths
//   and whose vm.json asks for the store share, so clan-vmd computes the closure, lays out the VM's store view
//   and starts virtiofsd serving it; QEMU runs as the network's own uid, sandboxed, with restrict=on. Timed from
//   the call until it returns running, which clan-vmd does only after the same ready line.
// - clan-vmd without the store: the same Start of a generation without the store share, for where the time goes.
// Rounds rotate which side goes first, so drift in the machine's load hits every side alike.

const CLOSURE_PATHS = Number(process.env.CLAN_BENCH_CLOSURE_PATHS ?? 1500);
const KERNEL_PARAMS = "console=ttyS0 panic=-1 quiet clan.generation=bench-cold";
const VM_JSON = { memoryMiB: 256, cores: 1, stateDiskMiB: 1024, shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }] };
const READY_TIMEOUT_MS = 60_000;
const STORE_NETWORK = "bench-store";
const PLAIN_NETWORK = "bench-plain";

type Side = "bare" | "vmdStore" | "vmdPlain";
const SIDES: Side[] = ["bare", "vmdStore", "vmdPlain"];

/** What a user would run to boot the guest by hand: its devices, and nothing clan-vmd adds for confinement. */
function plainQemuArguments(generation: Generation, dir: string, accelerator: string): string[] {
  return [
    "-machine", "q35", "-accel", accelerator, "-smp", String(generation.vm.cores), "-m", `${generation.vm.memoryMiB}M`,
    "-nodefaults", "-no-reboot", "-display", "none",
    "-kernel", generation.kernel, "-initrd", generation.initrd, "-append", generation.kernelParams,
    "-serial", `file:${join(dir, "console.log")}`,
    "-device", "virtio-serial-pci",
    // The test guest waits for both ports before it goes on; without them it would idle seconds, not boot faster.
    "-chardev", `socket,id=qga,path=${join(dir, "qga.sock")},server=on,wait=off`,
    "-device", `virtserialport,chardev=qga,name=${GUEST_AGENT_PORT_NAME}`,
    "-chardev", `socket,id=control,path=${join(dir, "control.sock")},server=on,wait=off`,
    "-device", `virtserialport,chardev=control,name=${CONTROL_PORT_NAME}`,
    "-drive", `file=${join(dir, "state.qcow2")},if=virtio,format=qcow2`,
    "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0",
  ];
}

interface Setup {
  fixture: VmdFixture;
  storeGeneration: string;
  plainGeneration: string;
  bareArgs: string[];
  bareDir: string;
}

async function coldStart(side: Side, setup: Setup): Promise<number> {
  if (side === "bare") {
    // QEMU is execa's child: should the runner be interrupted mid-boot, execa kills it as the runner exits.
    const vm = await spawnUntilReady(QEMU, setup.bareArgs, join(setup.bareDir, "control.sock"), READY_TIMEOUT_MS);
    await vm.stop();
    return vm.readyAfterMs;
  }
  const [network, generation] = side === "vmdStore" ? [STORE_NETWORK, setup.storeGeneration] : [PLAIN_NETWORK, setup.plainGeneration];
  const startedAt = performance.now();
  const status = await setup.fixture.api.start(network, generation);
  const elapsed = performance.now() - startedAt;
  if (status.state !== "running") throw new Error(`clan-vmd returned ${status.state}, not running: ${status.error}`);
  await setup.fixture.api.stop(network);
  return elapsed;
}

export const vmdColdStartBenchmark: Benchmark = {
  name: "vmd-cold-start",
  summary: `plain QEMU vs clan-vmd Start with a ${CLOSURE_PATHS + 1}-path store view and confinement, spawn to guest ready`,
  async run({ rounds }) {
    return withVmd(async (fixture) => {
      const { kernel, initrd } = testGuestPaths();
      const storeGeneration = await buildClosureGeneration(join(fixture.root, "closure"), "clan-bench-cold-start", CLOSURE_PATHS, {
        kernel, initrd, kernelParams: KERNEL_PARAMS, vmJson: VM_JSON,
      });
      const plainGeneration = join(fixture.root, "plain-generation");
      await mkdir(plainGeneration);
      await symlink(kernel, join(plainGeneration, "kernel"));
      await symlink(initrd, join(plainGeneration, "initrd"));
      await writeFile(join(plainGeneration, "kernel-params"), `${KERNEL_PARAMS}\n`);
      await writeFile(join(plainGeneration, "vm.json"), `${JSON.stringify({ ...VM_JSON, shares: [] })}\n`);
      const bareDir = join(fixture.root, "bare");
      await mkdir(bareDir);
      await execa("qemu-img", ["create", "-q", "-f", "qcow2", join(bareDir, "state.qcow2"), `${VM_JSON.stateDiskMiB}M`]);
      const generation = await loadGeneration(storeGeneration);
      const setup: Setup = { fixture, storeGeneration, plainGeneration, bareDir, bareArgs: plainQemuArguments(generation, bareDir, fixture.accelerator.accelerator) };

      // One unmeasured round: page cache, Nix's database, and clan-vmd creating each network's state disk.
      for (const side of SIDES) await coldStart(side, setup);
      const samples: Record<Side, number[]> = { bare: [], vmdStore: [], vmdPlain: [] };
      const loadBefore = loadavg()[0]!;
      for (let round = 0; round < rounds; round++) {
        const order = [...SIDES.slice(round % SIDES.length), ...SIDES.slice(0, round % SIDES.length)];
        for (const side of order) samples[side].push(await coldStart(side, setup));
        process.stderr.write(
          `  round ${round + 1}/${rounds}: bare ${samples.bare.at(-1)!.toFixed(0)} ms, clan-vmd ${samples.vmdStore.at(-1)!.toFixed(0)} ms, ` +
            `clan-vmd without store ${samples.vmdPlain.at(-1)!.toFixed(0)} ms (load ${loadavg()[0]!.toFixed(1)})\n`,
        );
      }
      const loadAfter = loadavg()[0]!;
      await rm(bareDir, { recursive: true, force: true });
      const ratio = (median(samples.vmdStore) / median(samples.bare)) * 100;
      return {
        parameters: {
          rounds,
          closurePaths: CLOSURE_PATHS + 1,
          accelerator: fixture.accelerator.accelerator,
          acceleratorReason: fixture.accelerator.reason,
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadAfter,
        },
        measurements: [
          { metric: "bare QEMU median", value: median(samples.bare), unit: "ms" },
          { metric: "bare QEMU p90", value: percentile(samples.bare, 0.9), unit: "ms" },
          { metric: "clan-vmd median", value: median(samples.vmdStore), unit: "ms" },
          { metric: "clan-vmd p90", value: percentile(samples.vmdStore, 0.9), unit: "ms" },
          { metric: "clan-vmd without store median", value: median(samples.vmdPlain), unit: "ms" },
          withGoal({ metric: "clan-vmd ÷ bare QEMU (medians)", value: ratio, unit: "%" }, 110),
        ],
        samples: { bareMs: samples.bare, vmdMs: samples.vmdStore, vmdWithoutStoreMs: samples.vmdPlain },
      };
    });
  },
};
