import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { startSessionStack } from "../test/helpers/session-stack.js";
import { startHeadlessSway } from "../test/helpers/sway.js";
import { type Benchmark, type Measurement, withGoal } from "./benchmark.js";
import { registerCleanup } from "./cleanup.js";
import { median } from "./stats.js";

// How long clanctl's one-shot answers take next to Node itself (issue #18: at most 1.5× `node -e 0`), among them
// the commands that keys and bar clicks run — status, switch, stop — against the real clan-sessiond and clan-vmd
// on a private bus, attached to a real headless sway. The commands run interleaved, round after round, so that a
// burst of load from elsewhere hits them all alike. The networks' profiles hold no generation: a switch focuses
// the workspace and the start it asks for fails at once, so what is timed is clanctl and one daemon call, not a
// VM's boot. Runs bin/clanctl.js from dist/ (npm run build).

const CLANCTL = fileURLToPath(new URL("../bin/clanctl.js", import.meta.url));
const REFERENCE = "node -e 0";

/** Each command's arguments to node; `switch` alternates between the two networks' workspaces. */
function commands(round: number): Record<string, string[]> {
  return {
    [REFERENCE]: ["-e", "0"],
    "clanctl --help": [CLANCTL, "--help"],
    "clanctl status --help": [CLANCTL, "status", "--help"],
    "clanctl --version": [CLANCTL, "--version"],
    "clanctl status": [CLANCTL, "status"],
    "clanctl switch": [CLANCTL, "switch", round % 2 === 0 ? "family" : "club"],
    "clanctl stop": [CLANCTL, "stop", "club"],
  };
}

export const clanctlStartupBenchmark: Benchmark = {
  name: "clanctl-startup",
  summary: "clanctl --help, --version, status, switch and stop (real clan-sessiond on sway) against node -e 0 (median wall time)",
  async run({ rounds }) {
    const runs = Math.max(20, rounds * 4);
    const root = await mkdtemp(join(tmpdir(), "clan-bench-clanctl-"));
    const removeRoot = registerCleanup(() => rm(root, { recursive: true, force: true }));
    const sway = await startHeadlessSway();
    const stopSway = registerCleanup(() => sway.stop());
    try {
      const profile = (name: string) => join(root, "profiles", name);
      await mkdir(profile("family"), { recursive: true });
      await mkdir(profile("club"), { recursive: true });
      const stack = await startSessionStack({
        config: {
          networks: {
            family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: profile("family") } },
            club: { workspaces: ["3:club"], colour: "#b5462f", source: { profile: profile("club") } },
          },
        },
        daemonEnv: { SWAYSOCK: sway.socketPath, XDG_RUNTIME_DIR: sway.runtimeDir },
      });
      const stopStack = registerCleanup(() => stack.stop());
      try {
        return await measure(runs, { ...process.env, DBUS_SESSION_BUS_ADDRESS: stack.env.DBUS_SESSION_BUS_ADDRESS! });
      } finally {
        await stopStack();
      }
    } finally {
      await stopSway();
      await removeRoot();
    }
  },
};

async function measure(runs: number, env: NodeJS.ProcessEnv) {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands(0)).map((name) => [name, []]));
  // One unmeasured round warms the page cache. A command that fails fails the benchmark: a fast error is no answer.
  for (let round = 0; round <= runs; round++) {
    for (const [name, args] of Object.entries(commands(round))) {
      const startedAt = performance.now();
      await execa(process.execPath, args, { env });
      if (round > 0) samples[name]!.push(performance.now() - startedAt);
    }
  }
  const reference = median(samples[REFERENCE]!);
  const measurements: Measurement[] = [{ metric: `${REFERENCE} median`, value: reference, unit: "ms" }];
  for (const name of Object.keys(samples).filter((n) => n !== REFERENCE)) {
    const value = median(samples[name]!);
    measurements.push({ metric: `${name} median`, value, unit: "ms" });
    measurements.push(withGoal({ metric: `${name} ÷ ${REFERENCE}`, value: (value / reference) * 100, unit: "%" }, 150));
  }
  return { parameters: { runs }, measurements, samples };
}
