import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { execa } from "execa";
import { GUEST_AGENT_PORT_NAME, CONTROL_PORT_NAME } from "../src/vmd/control-port.js";
import { loadGeneration, type Generation } from "../src/vmd/generation.js";
import { spawnUntilReady } from "../test/helpers/bare-qemu.js";
import { testGuestPaths } from "../test/helpers/test-guest.js";
import { type Benchmark, type Measurement, withGoal } from "./benchmark.js";
import { parseStartTimings } from "../src/vmd/start-timings.js";
import { buildClosureGeneration } from "./closure-generation.js";
import { median, percentile } from "./stats.js";
import { QEMU, withVmd, type VmdFixture } from "./vmd-fixture.js";

// Cold start of clan-vmd with everything it sets up around a VM, against the plain QEMU command a user would
// type for the same guest, side by side in one run (docs/benchmarks.md, "vmd-cold-start"):
// - bare: qemu-system-x86_64 with the same kernel, initrd, kernel parameters, memory, cores and state disk, and
//   the virtio ports the guest speaks on; no seccomp sandbox, no setpriv, no per-network uid, no restrict=on, no
//   store share, no virtiofsd. Timed from spawn to the guest's ready line on the control port.
// - clan-vmd: a D-Bus Start of a generation built by the real Nix whose closure has CLOSURE_PATHS + 1 store paths
//   and whose vm.json asks for the store share; the generation was started before, so its store view is prepared
//   (prepared-store-views.ts) and virtiofsd joins it. QEMU runs as the network's own uid, sandboxed, with
//   restrict=on. Timed from the call until it returns running, which clan-vmd does only after the same ready line.
// - clan-vmd, a generation's first start after PrepareStart, as clan-sessiond does it: every round a generation
//   never started before (a rebuild: its own store path over the same CLOSURE_PATHS dependencies) is registered with
//   PrepareStart, which prepares its view in the background; PREPARE_PAUSE_MS later — the user switching to the
//   network after a build, or the old VM stopping while a rebuild restarts it — its Start is timed.
// - clan-vmd, a generation's first start never prepared: the same without PrepareStart, so clan-vmd computes the
//   closure, lays out the view and binds every path on the start's path (a clan-vmd that clan-sessiond did not tell).
// - clan-vmd without the store: the same Start of a generation without the store share, for where the time goes.
// Rounds rotate which side goes first, so drift in the machine's load hits every side alike. clan-vmd runs with
// CLAN_DEBUG, so it logs each start's steps (start-timings.ts); their medians are reported too.

const CLOSURE_PATHS = Number(process.env.CLAN_BENCH_CLOSURE_PATHS ?? 1500);
/** Makes this run's rebuilds new to the store, so that each first start really is one. */
const run = `${Date.now().toString(36)}-${process.pid}`;
const KERNEL_PARAMS = "console=ttyS0 panic=-1 quiet clan.generation=bench-cold";
const VM_JSON = { memoryMiB: 256, cores: 1, stateDiskMiB: 1024, shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }] };
const READY_TIMEOUT_MS = 60_000;
const STORE_NETWORK = "bench-store";
const PLAIN_NETWORK = "bench-plain";

const FIRST_NETWORK = "bench-first";
const PREPARED_NETWORK = "bench-prepared";
/** Between PrepareStart and the timed Start: shorter than a user's switch after a build, or an old VM's stop. */
const PREPARE_PAUSE_MS = 2000;

type Side = "bare" | "vmdStore" | "vmdStorePrepared" | "vmdStoreFirst" | "vmdPlain";
const SIDES: Side[] = ["bare", "vmdStore", "vmdStorePrepared", "vmdStoreFirst", "vmdPlain"];
const VMD_NETWORKS: Record<Exclude<Side, "bare">, string> = {
  vmdStore: STORE_NETWORK,
  vmdStorePrepared: PREPARED_NETWORK,
  vmdStoreFirst: FIRST_NETWORK,
  vmdPlain: PLAIN_NETWORK,
};

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
  /** Generations never started yet, one taken per first start, per side that starts them. */
  newGenerations: Record<"vmdStorePrepared" | "vmdStoreFirst", string[]>;
  plainGeneration: string;
  bareArgs: string[];
  bareDir: string;
}

interface Sample {
  ms: number;
  /** clan-vmd's own account of the start's steps (none for bare QEMU). */
  steps: Map<string, number>;
}

async function coldStart(side: Side, setup: Setup): Promise<Sample> {
  if (side === "bare") {
    // QEMU is execa's child: should the runner be interrupted mid-boot, execa kills it as the runner exits.
    const vm = await spawnUntilReady(QEMU, setup.bareArgs, join(setup.bareDir, "control.sock"), READY_TIMEOUT_MS);
    await vm.stop();
    return { ms: vm.readyAfterMs, steps: new Map() };
  }
  const network = VMD_NETWORKS[side];
  const generation = side === "vmdStore" ? setup.storeGeneration : side === "vmdPlain" ? setup.plainGeneration : setup.newGenerations[side].shift();
  if (generation === undefined) throw new Error("no generation left for a first start");
  if (side === "vmdStorePrepared") {
    await setup.fixture.api.prepareStart(network, generation);
    await sleep(PREPARE_PAUSE_MS);
  }
  const startedAt = performance.now();
  const status = await setup.fixture.api.start(network, generation).catch((error: unknown) => {
    throw new Error(`clan-vmd could not start ${network}: ${String(error)}; its log ends:\n${setup.fixture.vmdOutput().slice(-4000)}`);
  });
  const elapsed = performance.now() - startedAt;
  if (status.state !== "running") throw new Error(`clan-vmd returned ${status.state}, not running: ${status.error}`);
  await setup.fixture.api.stop(network);
  const logged = setup.fixture.vmdOutput().split("\n").filter((line) => line.includes(`${network}: start timings:`)).at(-1);
  const steps = logged === undefined ? undefined : parseStartTimings(logged);
  if (!steps) throw new Error(`clan-vmd logged no start timings for ${network}`);
  return { ms: elapsed, steps };
}

/** Each step clan-vmd logged, over the samples of one side, keyed `<label> step <name>`. */
function stepSamples(label: string, samples: Sample[]): Record<string, number[]> {
  const names = new Set(samples.flatMap((sample) => [...sample.steps.keys()]));
  return Object.fromEntries([...names].map((name) => [`${label} step ${name}`, samples.map((sample) => sample.steps.get(name) ?? 0)]));
}

/** A table row per step: its median. */
function stepRows(steps: Record<string, number[]>): Measurement[] {
  return Object.entries(steps).map(([metric, values]) => ({ metric: `${metric} median`, value: median(values), unit: "ms" }));
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
      // A rebuild per first start: each its own store path over the same dependencies, so only its view is new.
      const newGenerations: Setup["newGenerations"] = { vmdStorePrepared: [], vmdStoreFirst: [] };
      for (const side of ["vmdStorePrepared", "vmdStoreFirst"] as const) {
        for (let round = 0; round <= rounds; round++) {
          newGenerations[side].push(await buildClosureGeneration(join(fixture.root, "closure"), "clan-bench-cold-start", CLOSURE_PATHS, {
            kernel, initrd, kernelParams: `${KERNEL_PARAMS} clan.rebuild=${run}-${side}-${round}`, vmJson: VM_JSON,
          }));
        }
      }
      const generation = await loadGeneration(storeGeneration);
      const setup: Setup = { fixture, storeGeneration, newGenerations, plainGeneration, bareDir, bareArgs: plainQemuArguments(generation, bareDir, fixture.accelerator.accelerator) };

      // One unmeasured round: page cache, Nix's database, clan-vmd creating each network's state disk, and the
      // store generation's first start, which prepares the view its measured starts reuse.
      for (const side of SIDES) await coldStart(side, setup);
      const samples: Record<Side, Sample[]> = { bare: [], vmdStore: [], vmdStorePrepared: [], vmdStoreFirst: [], vmdPlain: [] };
      const loadBefore = loadavg()[0]!;
      for (let round = 0; round < rounds; round++) {
        const order = [...SIDES.slice(round % SIDES.length), ...SIDES.slice(0, round % SIDES.length)];
        for (const side of order) samples[side].push(await coldStart(side, setup));
        process.stderr.write(
          `  round ${round + 1}/${rounds}: bare ${samples.bare.at(-1)!.ms.toFixed(0)} ms, clan-vmd ${samples.vmdStore.at(-1)!.ms.toFixed(0)} ms, ` +
            `first start prepared ${samples.vmdStorePrepared.at(-1)!.ms.toFixed(0)} ms, never prepared ${samples.vmdStoreFirst.at(-1)!.ms.toFixed(0)} ms, without store ${samples.vmdPlain.at(-1)!.ms.toFixed(0)} ms ` +
            `(load ${loadavg()[0]!.toFixed(1)})\n`,
        );
      }
      const loadAfter = loadavg()[0]!;
      await rm(bareDir, { recursive: true, force: true });
      const ms = (side: Side) => samples[side].map((sample) => sample.ms);
      const steps = {
        reused: stepSamples("clan-vmd", samples.vmdStore),
        prepared: stepSamples("first start after PrepareStart", samples.vmdStorePrepared),
        first: stepSamples("first start never prepared", samples.vmdStoreFirst),
        plain: stepSamples("without store", samples.vmdPlain),
      };
      const ratio = (side: Side) => (median(ms(side)) / median(ms("bare"))) * 100;
      /** First starts after PrepareStart whose view was still being prepared when they came. */
      const awaited = samples.vmdStorePrepared.filter((sample) => sample.steps.has("view awaited")).length;
      return {
        parameters: {
          rounds,
          closurePaths: CLOSURE_PATHS + 1,
          preparePauseMs: PREPARE_PAUSE_MS,
          preparedStartsThatWaitedForTheirView: awaited,
          accelerator: fixture.accelerator.accelerator,
          acceleratorReason: fixture.accelerator.reason,
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadAfter,
        },
        measurements: [
          { metric: "bare QEMU median", value: median(ms("bare")), unit: "ms" },
          { metric: "bare QEMU p90", value: percentile(ms("bare"), 0.9), unit: "ms" },
          { metric: "clan-vmd median", value: median(ms("vmdStore")), unit: "ms" },
          { metric: "clan-vmd p90", value: percentile(ms("vmdStore"), 0.9), unit: "ms" },
          { metric: "clan-vmd, first start after PrepareStart median", value: median(ms("vmdStorePrepared")), unit: "ms" },
          { metric: "clan-vmd, first start after PrepareStart p90", value: percentile(ms("vmdStorePrepared"), 0.9), unit: "ms" },
          { metric: "clan-vmd, first start never prepared median", value: median(ms("vmdStoreFirst")), unit: "ms" },
          { metric: "clan-vmd without store median", value: median(ms("vmdPlain")), unit: "ms" },
          withGoal({ metric: "clan-vmd ÷ bare QEMU (medians)", value: ratio("vmdStore"), unit: "%" }, 110),
          withGoal({ metric: "first start after PrepareStart ÷ bare QEMU (medians)", value: ratio("vmdStorePrepared"), unit: "%" }, 110),
          { metric: "first start never prepared ÷ bare QEMU (medians)", value: ratio("vmdStoreFirst"), unit: "%" },
          ...stepRows(steps.reused),
          ...stepRows(steps.prepared),
          ...stepRows(steps.first),
        ],
        samples: {
          bareMs: ms("bare"), vmdMs: ms("vmdStore"), vmdPreparedFirstStartMs: ms("vmdStorePrepared"), vmdFirstStartMs: ms("vmdStoreFirst"),
          vmdWithoutStoreMs: ms("vmdPlain"),
          ...steps.reused, ...steps.prepared, ...steps.first, ...steps.plain,
        },
      };
    }, { CLAN_DEBUG: "1" });
  },
};
