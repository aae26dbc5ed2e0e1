import { describe, expect, it } from "vitest";
import { configErrorNotice, failureNotices } from "../../src/gnome-extension/core/notifications.js";
import { Lifetime } from "../../src/gnome-extension/core/lifetime.js";
import { formatAge } from "../../src/gnome-extension/core/format.js";
import { network } from "./fixtures.js";

describe("failure notifications", () => {
  it("announce a failure once, when it happens", () => {
    const running = network("a", { label: "Family", vmState: "running" });
    const failed = { ...running, vmState: "failed", error: "QEMU exited with 1" };
    expect(failureNotices(running, failed)).toEqual([{ title: "Family: the VM failed", body: "QEMU exited with 1" }]);
    expect(failureNotices(failed, { ...failed, focused: true })).toEqual([]);
    expect(failureNotices(undefined, failed)).toEqual([]);
  });

  it("leave a failed rebuild or backup to clan-sessiond, which notifies it itself with the reason", () => {
    const running = network("a", { label: "Family", vmState: "running" });
    expect(failureNotices(running, { ...running, buildState: "failed", backupState: "failed", backupError: "restic: repository locked" })).toEqual([]);
  });

  it("announce a newly rejected config, not the same one again nor its clearing", () => {
    expect(configErrorNotice("", "bad")).toMatchObject({ title: "clan-desktop: config rejected" });
    expect(configErrorNotice("bad", "bad")).toBeUndefined();
    expect(configErrorNotice("bad", "")).toBeUndefined();
  });
});

describe("Lifetime", () => {
  it("undoes everything in reverse order, once, even when one undo throws", () => {
    const done: string[] = [];
    const reports: string[] = [];
    const lifetime = new Lifetime((message) => reports.push(message));
    lifetime.add("a", () => done.push("a"));
    lifetime.add("b", () => {
      throw new Error("boom");
    });
    const child = lifetime.child("c");
    child.add("c1", () => done.push("c1"));
    lifetime.add("d", () => done.push("d"));
    lifetime.end();
    lifetime.end();
    expect(done).toEqual(["d", "c1", "a"]);
    expect(reports).toEqual(["cannot undo b: boom"]);
  });

  it("lets a child end early, and undoes at once what arrives after the end", () => {
    const done: string[] = [];
    const lifetime = new Lifetime(() => undefined);
    const child = lifetime.child("connection");
    child.add("proxy", () => done.push("proxy"));
    child.end();
    expect(lifetime.size).toBe(0);
    lifetime.end();
    lifetime.add("late reply", () => done.push("late"));
    expect(done).toEqual(["proxy", "late"]);
  });
});

describe("formatAge", () => {
  it.each([
    [0, "never"],
    [30_000, "just now"],
    [5 * 60_000, "5 min ago"],
    [3 * 3600_000, "3 h ago"],
    [3 * 86400_000, "3 days ago"],
  ])("%d ms ago is %j", (ago, text) => {
    const now = 1_800_000_000_000;
    expect(formatAge(ago === 0 ? 0 : now - ago, now)).toBe(text);
  });
});
