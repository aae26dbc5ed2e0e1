import { setPriority } from "node:os";

// Work clan-vmd does ahead of time (a store view prepared before its start: prepared-store-views.ts) runs at the
// lowest CPU priority, so that it takes nothing from a VM starting or running meanwhile on a busy machine. When a
// start comes to wait for that work, it is raised back to normal priority where clan-vmd may (as root; a user's
// clan-vmd may not lower a niceness, and the work then finishes at its low priority).

const BACKGROUND_PRIORITY = 19;
const NORMAL_PRIORITY = 0;

/** The processes of one piece of background work. */
export class BackgroundWork {
  private readonly pids = new Set<number>();
  private urgent = false;

  /** A process of this work was spawned: it runs at low priority unless a start already waits for the work. */
  spawned(pid: number | undefined): void {
    if (pid === undefined) return;
    this.pids.add(pid);
    if (!this.urgent) prioritise(pid, BACKGROUND_PRIORITY);
  }

  /** A start waits for this work: its processes, and those still to come, run at normal priority. */
  hurry(): void {
    if (this.urgent) return;
    this.urgent = true;
    for (const pid of this.pids) prioritise(pid, NORMAL_PRIORITY);
  }
}

/** Sets the process's priority; one that already exited, or that this process may not raise, is left alone. */
function prioritise(pid: number, priority: number): void {
  try {
    setPriority(pid, priority);
  } catch (error) {
    // Node reports libuv's failure as ERR_SYSTEM_ERROR, with the errno's name in `info`.
    const code = (error as { info?: { code?: string } }).info?.code;
    if (code !== "ESRCH" && code !== "EACCES" && code !== "EPERM") throw error;
  }
}
