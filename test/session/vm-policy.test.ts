import { describe, expect, it } from "vitest";
import type { VmState } from "../../src/shared/vm-api.js";
import { desiredVm, nextOperation, type PolicyInput } from "../../src/session/vm-policy.js";

// The pure policy: what the user wants of a VM from focus, policy and time, and the one operation towards it.

const base: PolicyInput = {
  policy: { onLeave: { action: "pause" }, stopWhenIdleMinutes: null },
  focusKnown: true,
  focused: false,
  since: 10_000,
  explicit: undefined,
  observed: "running",
  debounceMs: 150,
  now: 10_000,
};

describe("desiredVm", () => {
  it("wants a network the config no longer has stopped, whatever else holds", () => {
    expect(desiredVm({ ...base, policy: undefined, focused: true, explicit: "running" })).toEqual({ goal: "stopped" });
  });

  it("an explicit wish wins over focus and policy", () => {
    expect(desiredVm({ ...base, focused: true, explicit: "stopped" })).toEqual({ goal: "stopped" });
    expect(desiredVm({ ...base, explicit: "running", now: base.since + 3_600_000 })).toEqual({ goal: "running" });
  });

  it("leaves everything as it is while focus is unknown", () => {
    expect(desiredVm({ ...base, focusKnown: false, now: base.since + 3_600_000 })).toEqual({ goal: "unchanged" });
  });

  it("enters a warm VM at once, and cold-starts only after the debounce", () => {
    for (const observed of ["running", "paused", "starting"] as const) {
      expect(desiredVm({ ...base, focused: true, observed })).toEqual({ goal: "running" });
    }
    for (const observed of ["stopped", "failed", "stopping"] as const) {
      expect(desiredVm({ ...base, focused: true, observed })).toEqual({ goal: "unchanged", reviewAt: base.since + 150 });
      expect(desiredVm({ ...base, focused: true, observed, now: base.since + 150 })).toEqual({ goal: "running" });
    }
  });

  it("of several leave deadlines, applies the strongest that is due and looks again at the next", () => {
    const input: PolicyInput = { ...base, policy: { onLeave: { action: "pause" }, stopWhenIdleMinutes: 10 } };
    expect(desiredVm({ ...input, now: base.since + 149 })).toEqual({ goal: "unchanged", reviewAt: base.since + 150 });
    expect(desiredVm({ ...input, now: base.since + 150 })).toEqual({ goal: "paused", reviewAt: base.since + 600_000 });
    expect(desiredVm({ ...input, now: base.since + 600_000 })).toEqual({ goal: "stopped" });
  });

  it("stops after afterSeconds, but never before the debounce", () => {
    const stop = (afterSeconds: number): PolicyInput => ({ ...base, policy: { onLeave: { action: "stop", afterSeconds }, stopWhenIdleMinutes: null } });
    expect(desiredVm({ ...stop(0), now: base.since + 149 })).toEqual({ goal: "unchanged", reviewAt: base.since + 150 });
    expect(desiredVm({ ...stop(0), now: base.since + 150 })).toEqual({ goal: "stopped" });
    expect(desiredVm({ ...stop(30), now: base.since + 29_999 })).toEqual({ goal: "unchanged", reviewAt: base.since + 30_000 });
  });

  it("keep without an idle limit never changes anything", () => {
    expect(desiredVm({ ...base, policy: { onLeave: { action: "keep" }, stopWhenIdleMinutes: null }, now: base.since + 3_600_000 })).toEqual({ goal: "unchanged" });
  });
});

describe("nextOperation", () => {
  const table: [goal: Parameters<typeof nextOperation>[0], observed: VmState, expected: ReturnType<typeof nextOperation>][] = [
    ["running", "stopped", "start"],
    ["running", "failed", "start"],
    ["running", "paused", "resume"],
    ["running", "starting", "wait"],
    ["running", "stopping", "wait"],
    ["running", "running", undefined],
    ["paused", "running", "pause"],
    ["paused", "starting", "wait"],
    ["paused", "paused", undefined],
    ["paused", "stopped", undefined],
    ["paused", "failed", undefined],
    ["paused", "stopping", undefined],
    ["stopped", "running", "stop"],
    ["stopped", "paused", "stop"],
    ["stopped", "starting", "stop"],
    ["stopped", "stopping", undefined],
    ["stopped", "failed", undefined],
    ["unchanged", "running", undefined],
  ];
  for (const [goal, observed, expected] of table) {
    it(`${goal} from ${observed}: ${expected ?? "nothing"}`, () => {
      expect(nextOperation(goal, observed)).toBe(expected);
    });
  }
});
