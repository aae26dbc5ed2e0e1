import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnBar } from "../test/helpers/bar-process.js";
import { startSessionStack } from "../test/helpers/session-stack.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { registerCleanup } from "./cleanup.js";

// What one bar costs while nothing changes (issue #18: at most 10 MiB resident per bar, no wake-up). swaybar and
// i3bar start one status command per bar, so one per output on a multi-monitor desktop. The module runs as a bar
// runs it — `clanctl bar` with a pipe for clicks on stdin — against the real clan-sessiond and clan-vmd on a
// private bus, with one network whose VM stays stopped. Once its first line is out and it has settled, its
// resident memory (VmRSS) is read and its wake-ups are counted over an idle minute: the voluntary context switches
// of all its threads, from /proc/PID/task/*/status, before and after.

const IDLE_MS = 60_000;
const SETTLE_MS = 5_000;

export const barFootprintBenchmark: Benchmark = {
  name: "bar-footprint",
  summary: "clanctl bar's resident memory and its wake-ups over an idle minute",
  async run() {
    const root = await mkdtemp(join(tmpdir(), "clan-bench-bar-footprint-"));
    const removeRoot = registerCleanup(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, "profile"));
    const stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: join(root, "profile") } } } },
      daemonEnv: {},
    });
    const stopStack = registerCleanup(() => stack.stop());
    const bar = spawnBar(["--format", "i3bar"], stack.env);
    const stopBar = registerCleanup(() => bar.stop());
    try {
      await bar.waitForLine((line) => line.includes('"instance":"family"'), "the bar's first status line");
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const pid = bar.process.pid!;
      const rssKiB = await statusField(`/proc/${pid}/status`, "VmRSS");
      const before = await wakeUps(pid);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const after = await wakeUps(pid);
      const linesAfterSettling = bar.lines.length;
      return {
        parameters: { idleMs: IDLE_MS, settleMs: SETTLE_MS, format: "i3bar" },
        measurements: [
          withGoal({ metric: "resident memory per bar", value: rssKiB / 1024, unit: "MiB" }, 10),
          withGoal({ metric: "wake-ups in an idle minute", value: after - before, unit: "count" }, 0),
          { metric: "lines written (header included)", value: linesAfterSettling, unit: "count" },
        ],
        samples: { rssKiB: [rssKiB], wakeUps: [after - before] },
      };
    } finally {
      await stopBar();
      await stopStack();
      await removeRoot();
    }
  },
};

/** The sum of every thread's voluntary context switches: each is a time the thread slept and was woken. */
async function wakeUps(pid: number): Promise<number> {
  let total = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) total += await statusField(`/proc/${pid}/task/${task}/status`, "voluntary_ctxt_switches");
  return total;
}

async function statusField(file: string, field: string): Promise<number> {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(await readFile(file, "utf8"));
  if (!match) throw new Error(`${file} has no ${field}`);
  return Number(match[1]);
}
