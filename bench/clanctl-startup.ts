import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { type Benchmark, type Measurement, withGoal } from "./benchmark.js";
import { median } from "./stats.js";

// How long clanctl's one-shot answers take next to Node itself (issue #18: at most 1.5× `node -e 0`). The
// commands run interleaved, round after round, so that a burst of load from elsewhere hits them all alike.
// Runs bin/clanctl.js from dist/ and needs no daemon.

const CLANCTL = fileURLToPath(new URL("../bin/clanctl.js", import.meta.url));
const COMMANDS: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "clanctl --help": [CLANCTL, "--help"],
  "clanctl status --help": [CLANCTL, "status", "--help"],
  "clanctl --version": [CLANCTL, "--version"],
};

export const clanctlStartupBenchmark: Benchmark = {
  name: "clanctl-startup",
  summary: "clanctl --help, status --help and --version against node -e 0 (median wall time)",
  async run({ rounds }) {
    const runs = Math.max(20, rounds * 4);
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(COMMANDS).map((name) => [name, []]));
    // One unmeasured round warms the page cache.
    for (let round = 0; round <= runs; round++) {
      for (const [name, args] of Object.entries(COMMANDS)) {
        const startedAt = performance.now();
        await execa(process.execPath, args);
        if (round > 0) samples[name]!.push(performance.now() - startedAt);
      }
    }
    const node = median(samples["node -e 0"]!);
    const measurements: Measurement[] = [{ metric: "node -e 0 median", value: node, unit: "ms" }];
    for (const name of Object.keys(COMMANDS).filter((n) => n !== "node -e 0")) {
      const value = median(samples[name]!);
      measurements.push({ metric: `${name} median`, value, unit: "ms" });
      measurements.push(withGoal({ metric: `${name} ÷ node -e 0`, value: (value / node) * 100, unit: "%" }, 150));
    }
    return { parameters: { runs }, measurements, samples };
  },
};
