import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { spawnBar, type BarProcess } from "../test/helpers/bar-process.js";
import { REPO } from "../test/helpers/daemons.js";
import { childPids, stopProcess } from "../test/helpers/processes.js";
import { startSessionStack } from "../test/helpers/session-stack.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { registerCleanup } from "./cleanup.js";

// What one bar costs while nothing changes (issue #18: at most 10 MiB resident per bar, no wake-up). swaybar and
// i3bar start one status command per bar, so one per output on a multi-monitor desktop. The bar's process is
// bin/clan-bar-relay (sh, socat, and cat for the clicks), run as a bar runs it — i3bar format, a pipe for clicks
// on its stdin — against the real clan-sessiond and clan-vmd on a private bus, with one network whose VM stays
// stopped. Once its first line is out and it has settled, the resident memory (VmRSS) of every process of the
// relay is summed, and their wake-ups are counted over an idle minute: the voluntary context switches of all their
// threads, from /proc/PID/task/*/status, before and after. `clanctl bar`, the entry point older configs name, runs
// the same relay under a Node process that stays its parent (Node cannot exec): it is measured alongside, without
// a goal, for docs/benchmarks.md.

const IDLE_MS = 60_000;
const SETTLE_MS = 5_000;

export const barFootprintBenchmark: Benchmark = {
  name: "bar-footprint",
  summary: "clan-bar-relay's resident memory (all its processes) and their wake-ups over an idle minute",
  async run() {
    const root = await mkdtemp(join(tmpdir(), "clan-bench-bar-footprint-"));
    const removeRoot = registerCleanup(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, "profile"));
    const stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: join(root, "profile") } } } },
      daemonEnv: {},
    });
    const stopStack = registerCleanup(() => stack.stop());
    const relay = spawnBar("i3bar", undefined, stack.env);
    const stopRelay = registerCleanup(() => relay.stop());
    const compat = execa("node", [join(REPO, "bin", "clanctl.js"), "bar", "--format", "i3bar"], { env: { ...process.env, ...stack.env }, reject: false, stdin: "pipe" });
    const stopCompat = registerCleanup(() => stopProcess(compat));
    try {
      await firstNetworkLine(relay);
      await new Promise<void>((resolve, reject) => {
        compat.stdout.setEncoding("utf8");
        compat.stdout.on("data", (chunk: string) => chunk.includes('"instance":"family"') && resolve());
        void compat.then(() => reject(new Error(`clanctl bar exited: ${compat.exitCode}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const relayPids = await processTree(relay.process.pid!);
      const compatPids = await processTree(compat.pid!);
      const rssKiB = await sum(relayPids, (pid) => statusField(`/proc/${pid}/status`, "VmRSS"));
      const compatRssKiB = await sum(compatPids, (pid) => statusField(`/proc/${pid}/status`, "VmRSS"));
      const before = await sum(relayPids, wakeUps);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const after = await sum(relayPids, wakeUps);
      const stillThere = (await processTree(relay.process.pid!)).length;
      return {
        parameters: { idleMs: IDLE_MS, settleMs: SETTLE_MS, format: "i3bar", relayProcesses: relayPids.length },
        measurements: [
          withGoal({ metric: "resident memory per bar (relay, all processes)", value: rssKiB / 1024, unit: "MiB" }, 10),
          withGoal({ metric: "wake-ups in an idle minute", value: after - before, unit: "count" }, 0),
          { metric: "relay processes (sh, socat, cat)", value: stillThere, unit: "count" },
          { metric: "lines written (opening included)", value: relay.lines.length, unit: "count" },
          { metric: "clanctl bar, the compatible entry point (node + relay)", value: compatRssKiB / 1024, unit: "MiB" },
        ],
        samples: { rssKiB: [rssKiB], wakeUps: [after - before], compatRssKiB: [compatRssKiB] },
      };
    } finally {
      await stopCompat();
      await stopRelay();
      await stopStack();
      await removeRoot();
    }
  },
};

function firstNetworkLine(bar: BarProcess): Promise<string> {
  return bar.waitForLine((line) => line.includes('"instance":"family"'), "the relay's first status line");
}

/** `pid` and all its descendants. */
async function processTree(pid: number): Promise<number[]> {
  const pids = [pid];
  for (const child of await childPids(pid)) pids.push(...(await processTree(child)));
  return pids;
}

async function sum(pids: number[], measure: (pid: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await measure(pid);
  return total;
}

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
