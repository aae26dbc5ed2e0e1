import { describe, expect, it } from "vitest";
import { MAX_ANCESTOR_DEPTH, networkOfProcess, parentPidFromStat } from "../../src/gnome-extension/core/window-owner.js";

describe("the parent pid in /proc/<pid>/stat", () => {
  it.each([
    ["26310 (gjs) R 26306 26306 21778 0 -1 4194304", 26306],
    // comm is the process's to choose: spaces and parentheses in it do not shift the fields.
    ["4242 (evil) 1 2 (x) S 77 4242 0", 77],
    ["4242 () S 9 4242", 9],
    ["1 (systemd) S 0 1 1", undefined],
    ["4242 (no end S 77", undefined],
    ["4242 (gjs) R", undefined],
    ["4242 (gjs) R -3 1", undefined],
    ["", undefined],
  ])("%j has parent %s", (stat, parent) => {
    expect(parentPidFromStat(stat)).toBe(parent);
  });
});

describe("which network a window's process belongs to", () => {
  // A process tree: 1 → 900 (clan-sessiond) → 1000 (waypipe client) → 1001 (its session child) → 1002.
  const parents = new Map([[900, 1], [1000, 900], [1001, 1000], [1002, 1001], [2000, 900], [3000, 1]]);
  const reads: number[] = [];
  const parentOf = (pid: number) => {
    reads.push(pid);
    return parents.get(pid);
  };
  const viewers = { family: 2000, club: 1000 };

  it("finds the network of a viewer's own window and of a window a descendant of it opened", () => {
    expect(networkOfProcess(2000, viewers, parentOf)).toBe("family");
    expect(networkOfProcess(1001, viewers, parentOf)).toBe("club");
    expect(networkOfProcess(1002, viewers, parentOf)).toBe("club");
  });

  it("gives no network to other processes, to the viewers' ancestors, or to processes that have exited", () => {
    expect(networkOfProcess(3000, viewers, parentOf)).toBeUndefined();
    expect(networkOfProcess(900, viewers, parentOf)).toBeUndefined();
    expect(networkOfProcess(5555, viewers, parentOf)).toBeUndefined();
    expect(networkOfProcess(0, viewers, parentOf)).toBeUndefined();
    expect(networkOfProcess(1001, { family: 0 }, parentOf)).toBeUndefined();
  });

  it("reads nothing while no viewer is published, and stops after a bounded number of generations", () => {
    reads.length = 0;
    expect(networkOfProcess(1002, {}, parentOf)).toBeUndefined();
    expect(reads).toEqual([]);
    // A chain deeper than the bound, and one that never reaches init (a pid reused between reads): both end.
    const deep = (pid: number) => (pid < 100 ? pid + 1 : undefined);
    expect(networkOfProcess(10, { far: 10 + MAX_ANCESTOR_DEPTH }, deep)).toBe("far");
    expect(networkOfProcess(10, { far: 10 + MAX_ANCESTOR_DEPTH + 1 }, deep)).toBeUndefined();
    let loopReads = 0;
    expect(networkOfProcess(50, { elsewhere: 7 }, () => (loopReads++, 50))).toBeUndefined();
    expect(loopReads).toBe(MAX_ANCESTOR_DEPTH + 1);
  });
});
