import { ClanError } from "../shared/errors.js";
import type { VmState } from "../shared/vm-api.js";

// The supervisor's states and the only transitions between them. Keeping the table here, apart from the
// side effects, lets unit tests check every edge and lets the supervisor refuse impossible ones loudly.

const ALLOWED: Record<VmState, readonly VmState[]> = {
  stopped: ["starting"],
  starting: ["running", "stopping", "failed"],
  running: ["paused", "stopping", "failed", "stopped"],
  paused: ["running", "stopping", "failed", "stopped"],
  stopping: ["stopped", "failed"],
  failed: ["starting", "stopping", "stopped"],
};

export function canTransition(from: VmState, to: VmState): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(network: string, from: VmState, to: VmState): void {
  if (!canTransition(from, to)) {
    throw new ClanError("InvalidState", `VM of ${network} cannot go from ${from} to ${to}`);
  }
}

/** States in which a QEMU process exists and belongs to us. */
export function hasProcess(state: VmState): boolean {
  return state === "starting" || state === "running" || state === "paused" || state === "stopping";
}
