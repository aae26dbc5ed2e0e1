import type { VmStatus } from "../src/shared/vm-api.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { median, percentile } from "./stats.js";
import { withVmd } from "./vmd-fixture.js";

// Resume latency as a client sees it: from calling Resume on D-Bus until the StateChanged(running) signal
// arrives. This is what stands between focusing a paused network's workspace and its VM running again.

const NETWORK = "bench";

export const vmdResumeBenchmark: Benchmark = {
  name: "vmd-resume",
  summary: "Resume call until StateChanged(running) arrives",
  async run({ resumes }) {
    return withVmd(async ({ api, generationDir }) => {
      let waiting: { state: VmStatus["state"]; arrived: (at: number) => void } | undefined;
      const unsubscribe = api.onStateChanged(
        (status) => {
          if (status.network === NETWORK && status.state === waiting?.state) waiting.arrived(performance.now());
        },
        (error) => {
          throw error;
        },
      );
      const signalled = (state: VmStatus["state"]) => new Promise<number>((arrived) => (waiting = { state, arrived }));
      try {
        await api.start(NETWORK, generationDir);
        const latencies: number[] = [];
        // The first cycles are warm-up: the signal match rule settles, code paths get compiled.
        const warmUp = 10;
        for (let cycle = 0; cycle < warmUp + resumes; cycle++) {
          const paused = signalled("paused");
          await api.pause(NETWORK);
          await paused;
          const running = signalled("running");
          const calledAt = performance.now();
          await api.resume(NETWORK);
          const arrivedAt = await running;
          if (cycle >= warmUp) latencies.push(arrivedAt - calledAt);
        }
        return {
          parameters: { resumes, warmUp },
          measurements: [
            withGoal({ metric: "median", value: median(latencies), unit: "ms" }, 10),
            { metric: "p99", value: percentile(latencies, 0.99), unit: "ms" },
            { metric: "max", value: Math.max(...latencies), unit: "ms" },
          ],
          samples: { resumeMs: latencies },
        };
      } finally {
        unsubscribe();
        await api.stop(NETWORK).catch(() => undefined);
      }
    });
  },
};
