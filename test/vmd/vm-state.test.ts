import { describe, expect, it } from "vitest";
import { ClanError } from "../../src/shared/errors.js";
import { VmState } from "../../src/shared/vm-api.js";
import { assertTransition, canTransition, hasProcess } from "../../src/vmd/vm-state.js";

// Every pair of states, checked against the transition table written out here by hand: an edge added to or
// removed from src/vmd/vm-state.ts must be added to or removed from this list on purpose.

const ALLOWED_EDGES = [
  "stopped → starting",
  "starting → running",
  "starting → stopping",
  "starting → failed",
  "running → paused",
  "running → stopping",
  "running → failed",
  "running → stopped",
  "paused → running",
  "paused → stopping",
  "paused → failed",
  "paused → stopped",
  "stopping → stopped",
  "stopping → failed",
  "failed → starting",
  "failed → stopping",
  "failed → stopped",
];

const ALL_EDGES = VmState.options.flatMap((from) => VmState.options.map((to) => ({ from, to, edge: `${from} → ${to}` })));
const allowed = ALL_EDGES.filter(({ edge }) => ALLOWED_EDGES.includes(edge));
const refused = ALL_EDGES.filter(({ edge }) => !ALLOWED_EDGES.includes(edge));

describe("VM state transitions", () => {
  it("lists only edges between real states", () => {
    expect(allowed).toHaveLength(ALLOWED_EDGES.length);
    expect(refused).toHaveLength(36 - ALLOWED_EDGES.length);
  });

  it.each(allowed)("allows $edge", ({ from, to }) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition("alpha", from, to)).not.toThrow();
  });

  it.each(refused)("refuses $edge with InvalidState", ({ from, to }) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      assertTransition("alpha", from, to);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ClanError);
    expect(thrown).toMatchObject({ code: "InvalidState", message: `VM of alpha cannot go from ${from} to ${to}` });
  });

  it("counts a QEMU process as ours from starting to stopping, and not when stopped or failed", () => {
    const withProcess = VmState.options.filter(hasProcess);
    expect(withProcess).toEqual(["starting", "running", "paused", "stopping"]);
  });
});
