import { join } from "node:path";
import { bootBareQemu } from "../test/helpers/bare-qemu.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { median, percentile } from "./stats.js";
import { withVmd, type VmdFixture } from "./vmd-fixture.js";

// Cold start, clan-vmd against bare QEMU, side by side in one run. Both boot the same generation with the same
// command line (qemuArguments) and accelerator, and both stop at the guest's ready line on the control port:
// the difference is what clan-vmd adds (D-Bus, validation, QMP, state disk check, adoption record).
// Rounds alternate which side goes first, so drift in the machine's load hits both alike.

const NETWORK = "bench";

async function bareColdStart({ root, generationDir, accelerator }: VmdFixture): Promise<number> {
  // QEMU is execa's child: should the runner be interrupted mid-boot, execa kills it as the runner exits.
  const vm = await bootBareQemu({ generationDir, accelerator: accelerator.accelerator, root: join(root, "bare"), network: NETWORK });
  await vm.stop();
  return vm.readyAfterMs;
}

async function vmdColdStart({ api, generationDir }: VmdFixture): Promise<number> {
  const startedAt = performance.now();
  const status = await api.start(NETWORK, generationDir);
  const elapsed = performance.now() - startedAt;
  if (status.state !== "running") throw new Error(`clan-vmd returned ${status.state}, not running: ${status.error}`);
  await api.stop(NETWORK);
  return elapsed;
}

export const vmdColdStartBenchmark: Benchmark = {
  name: "vmd-cold-start",
  summary: "bare QEMU vs clan-vmd Start, spawn to guest ready",
  async run({ rounds }) {
    return withVmd(async (fixture) => {
      // One unmeasured round each: page cache, and clan-vmd creating the state disk on its first start.
      await bareColdStart(fixture);
      await vmdColdStart(fixture);
      const bare: number[] = [];
      const vmd: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? ["bare", "vmd"] : ["vmd", "bare"];
        for (const side of order) {
          if (side === "bare") bare.push(await bareColdStart(fixture));
          else vmd.push(await vmdColdStart(fixture));
        }
        process.stderr.write(`  round ${round + 1}/${rounds}: bare ${bare.at(-1)!.toFixed(0)} ms, clan-vmd ${vmd.at(-1)!.toFixed(0)} ms\n`);
      }
      const overhead = ((median(vmd) - median(bare)) / median(bare)) * 100;
      return {
        parameters: { rounds, accelerator: fixture.accelerator.accelerator, acceleratorReason: fixture.accelerator.reason },
        measurements: [
          { metric: "bare QEMU median", value: median(bare), unit: "ms" },
          { metric: "bare QEMU p90", value: percentile(bare, 0.9), unit: "ms" },
          { metric: "clan-vmd median", value: median(vmd), unit: "ms" },
          { metric: "clan-vmd p90", value: percentile(vmd, 0.9), unit: "ms" },
          withGoal({ metric: "overhead of medians", value: overhead, unit: "%" }, 10),
        ],
        samples: { bareMs: bare, vmdMs: vmd },
      };
    });
  },
};
