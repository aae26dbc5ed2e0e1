import { setPriority } from "node:os";

// Work clan-vmd does ahead of time (a store view prepared before its start: prepared-store-views.ts) runs at the
// lowest CPU priority, so that it takes nothing from a VM starting or running meanwhile on a busy machine.

const BACKGROUND_PRIORITY = 19;

/**
 * Lowers the process's priority to `priority`, right after it was spawned. A process that already exited is
 * left alone; its work is done.
 */
export function lowerPriority(pid: number | undefined, priority = BACKGROUND_PRIORITY): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, priority);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
