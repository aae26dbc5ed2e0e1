import type { VmState } from "../shared/vm-api.js";
import type { LeavePolicy } from "./config/schema.js";

// What the user wants of one network's VM, computed from focus, the network's policy and time alone — no
// events, no memory of what was done before. The reconciler (reconciler.ts) compares the answer with what
// clan-vmd reports and acts on the difference, so that the order in which things happened cannot matter.

/** A wish clanctl, the bar or GNOME expressed for one network; it holds until focus next enters or leaves it. */
export type ExplicitWish = "running" | "paused" | "stopped";

/**
 * - running: the VM should run;
 * - paused: it should not run, but may stay paused (or stopped, or failed);
 * - stopped: it should have no process;
 * - unchanged: leave it as it is (a debounce has not elapsed yet, or the policy keeps it).
 */
export type VmGoal = "running" | "paused" | "stopped" | "unchanged";

export interface NetworkPolicy {
  onLeave: LeavePolicy;
  stopWhenIdleMinutes: number | null;
}

export interface PolicyInput {
  /** The network's policy, or undefined when the config no longer has the network. */
  policy: NetworkPolicy | undefined;
  /** Whether the window manager (or GNOME) has told us which workspace is focused since we started. */
  focusKnown: boolean;
  focused: boolean;
  /** When focus last entered (if focused) or left this network; for one never visited, when focus became known. */
  since: number;
  explicit: ExplicitWish | undefined;
  /** What clan-vmd reports: a paused or running VM is entered at once, a cold start waits for the debounce. */
  observed: VmState;
  debounceMs: number;
  now: number;
}

export interface DesiredVm {
  goal: VmGoal;
  /** When the goal may change with time alone: the reconciler looks again then. */
  reviewAt?: number;
}

/** States with a VM that can be entered at once, without a cold start. */
const WARM: ReadonlySet<VmState> = new Set(["running", "paused", "starting"]);

export function desiredVm(input: PolicyInput): DesiredVm {
  const { policy, now } = input;
  // A network removed from the config belongs to no one: nothing would ever pause or stop its VM.
  if (!policy) return { goal: "stopped" };
  if (input.explicit) return { goal: input.explicit };
  if (!input.focusKnown) return { goal: "unchanged" };
  if (input.focused) {
    const enterAt = input.since + input.debounceMs;
    if (now >= enterAt || WARM.has(input.observed)) return { goal: "running" };
    // Passing through a workspace on the way to another must not boot anything.
    return { goal: "unchanged", reviewAt: enterAt };
  }
  const deadlines: { at: number; goal: VmGoal }[] = [];
  const leave = policy.onLeave;
  if (leave.action === "pause") deadlines.push({ at: input.since + input.debounceMs, goal: "paused" });
  if (leave.action === "stop") deadlines.push({ at: input.since + Math.max(input.debounceMs, leave.afterSeconds * 1000), goal: "stopped" });
  if (policy.stopWhenIdleMinutes !== null) deadlines.push({ at: input.since + policy.stopWhenIdleMinutes * 60_000, goal: "stopped" });
  const due = deadlines.filter((deadline) => deadline.at <= now).map((deadline) => deadline.goal);
  const pending = deadlines.filter((deadline) => deadline.at > now).map((deadline) => deadline.at);
  const goal: VmGoal = due.includes("stopped") ? "stopped" : due.includes("paused") ? "paused" : "unchanged";
  const reviewAt = goal === "stopped" || pending.length === 0 ? undefined : Math.min(...pending);
  return reviewAt === undefined ? { goal } : { goal, reviewAt };
}

export type VmOperation = "start" | "resume" | "pause" | "stop";

/**
 * The one operation that moves `observed` towards `goal`, "wait" while a transition that clan-vmd is making
 * must end first, or undefined when the VM is where the user wants it.
 */
export function nextOperation(goal: VmGoal, observed: VmState): VmOperation | "wait" | undefined {
  switch (goal) {
    case "unchanged":
      return undefined;
    case "running":
      if (observed === "running") return undefined;
      if (observed === "paused") return "resume";
      if (observed === "starting" || observed === "stopping") return "wait";
      return "start";
    case "paused":
      if (observed === "running") return "pause";
      // A boot cannot be paused; pause it once it runs.
      if (observed === "starting") return "wait";
      return undefined;
    case "stopped":
      // clan-vmd aborts a boot that is asked to stop.
      if (observed === "running" || observed === "paused" || observed === "starting") return "stop";
      return undefined;
  }
}
