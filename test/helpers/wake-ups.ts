import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

// How often a process wakes up, read from outside it: every time one of its threads blocks (a voluntary context
// switch) or is preempted (a nonvoluntary one), the kernel counts it in /proc/PID/task/TID/status. A thread that
// sleeps in epoll_wait or on a futex with no timeout adds nothing, and reading /proc does not wake it.

/** The context switches of all the process's threads so far. */
export async function contextSwitches(pid: number): Promise<number> {
  let total = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const status = await readFile(`/proc/${pid}/task/${task}/status`, "utf8").catch(() => "");
    for (const match of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) total += Number(match[1]);
  }
  return total;
}

export interface QuietOptions {
  /** How long the process must stay asleep. */
  stretchMs: number;
  /** Context switches allowed in that stretch. */
  tolerance: number;
  /** How long to wait for such a stretch before failing. */
  withinMs: number;
}

/**
 * Resolves once `pid` has made at most `tolerance` context switches over `stretchMs`; rejects after `withinMs`
 * with the switches it saw, second by second. A process woken by a timer shorter than the stretch never passes.
 */
export async function waitUntilQuiet(pid: number, options: QuietOptions): Promise<void> {
  const samples: { at: number; switches: number }[] = [];
  const start = Date.now();
  for (;;) {
    const now = { at: Date.now(), switches: await contextSwitches(pid) };
    samples.push(now);
    const stretchStart = samples.findLast((sample) => now.at - sample.at >= options.stretchMs);
    if (stretchStart && now.switches - stretchStart.switches <= options.tolerance) return;
    if (now.at - start > options.withinMs) {
      const perSecond = samples.filter((_, index) => index % 4 === 0).map((sample, index, all) => sample.switches - (all[index - 1]?.switches ?? sample.switches));
      throw new Error(`process ${pid} was never quiet for ${options.stretchMs} ms within ${options.withinMs} ms; context switches per second: ${perSecond.join(" ")}`);
    }
    await sleep(250);
  }
}
