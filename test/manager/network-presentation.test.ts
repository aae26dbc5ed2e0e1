import { describe, expect, it } from "vitest";
import type { Job } from "../../src/shared/job-api.js";
import type { NetworkVmState } from "../../src/shared/session-api.js";
import { formatBytes, networkDetail, networkRows, type DetailInputs } from "../../src/manager/network-presentation.js";
import { networkStatus } from "../bar/network-status.js";

const NOW = new Date(2026, 11, 3, 12, 0).getTime();
const inputs = (overrides: Partial<DetailInputs> = {}): DetailInputs => ({ generations: [], lastJob: undefined, notice: "", now: NOW, ...overrides });

function job(overrides: Partial<Job>): Job {
  return { id: "rollback-family-1", kind: "rollback", network: "family", state: "succeeded", phase: "", fraction: -1, startedAt: NOW, finishedAt: NOW, error: "", result: "", ...overrides };
}

describe("the networks list", () => {
  it("shows each network's colour, label, VM state and every warning that applies", () => {
    const rows = networkRows([
      networkStatus({ name: "club", label: "Club", colour: "#b5462f", vmState: "running", backupState: "failed", updateAvailable: true, vpnState: "down" }),
      networkStatus({ name: "family", label: "Family", vmState: "unavailable", backupState: "overdue" }),
      networkStatus({ name: "work", label: "Work", vmState: "failed" }),
    ]);
    expect(rows.map((row) => [row.title, row.colour, row.state, row.warnings.map((warning) => warning.text)])).toEqual([
      ["Club", "#b5462f", "running", ["backup failed", "update available", "VPN down"]],
      ["Family", "#2e7dbf", "unknown (clan-vmd is not running)", ["backup overdue"]],
      ["Work", "#2e7dbf", "failed", ["VM failed"]],
    ]);
  });

  it("shows a label with control characters and a right-to-left override as inert text, and an odd colour as grey", () => {
    const [row] = networkRows([networkStatus({ label: "Fam\u202eily\u001b]52;c;x\u0007", colour: "red; background: url(x)" })]);
    expect(row!.title).toBe("Fam\\u202eily\\x1b]52;c;x\\x07");
    expect(row!.colour).toBe("#888888");
  });
});

describe("a network's detail", () => {
  it("offers only the VM actions that apply to its state", () => {
    const actions = (vmState: NetworkVmState) => {
      const { vm } = networkDetail(networkStatus({ vmState }), inputs());
      return [vm.canStart, vm.canStop, vm.canPause];
    };
    expect(actions("stopped")).toEqual([true, false, false]);
    expect(actions("running")).toEqual([false, true, true]);
    expect(actions("paused")).toEqual([true, true, false]);
    expect(actions("stopping")).toEqual([false, false, false]);
    expect(actions("unavailable")).toEqual([false, false, false]);
  });

  it("lists generations newest first with date and revision, and offers a rollback to every one but the current", () => {
    const generations = [
      { number: 1, createdAt: new Date(2026, 10, 1, 9, 5).getTime(), current: false, path: "/g/1", revision: "0123456789abcdef0123" },
      { number: 2, createdAt: new Date(2026, 11, 2, 18, 30).getTime(), current: true, path: "/g/2", revision: "" },
    ];
    const detail = networkDetail(networkStatus(), inputs({ generations }));
    expect(detail.generations).toEqual([
      { number: 2, title: "Generation 2 (current)", date: "2026-12-02 18:30", revision: "revision unknown", current: true, canRollBack: false },
      { number: 1, title: "Generation 1", date: "2026-11-01 09:05", revision: "revision 0123456789ab", current: false, canRollBack: true },
    ]);
    const busy = networkDetail(networkStatus({ jobId: "backup-family-1", jobKind: "backup", jobPhase: "uploading", jobProgress: 0.5 }), inputs({ generations }));
    expect(busy.generations.map((row) => row.canRollBack)).toEqual([false, false]);
    expect(busy.update.canRebuild).toBe(false);
  });

  it("shows the running job's phase and progress, then how the last job ended, with its error made safe", () => {
    const running = networkDetail(networkStatus({ jobId: "rollback-family-1", jobKind: "rollback", jobPhase: "booting generation 1", jobProgress: 0.25 }), inputs());
    expect(running.job).toEqual({ text: "Rolling back: booting generation 1", fraction: 0.25, running: true });
    const failed = networkDetail(networkStatus(), inputs({ lastJob: job({ state: "failed", error: "guest said \u001b[2J no" }) }));
    expect(failed.job).toEqual({ text: "Roll back failed: guest said \\x1b[2J no", fraction: -1, running: false });
    const done = networkDetail(networkStatus(), inputs({ lastJob: job({ kind: "backup", result: "snapshot 1a2b3c4d" }) }));
    expect(done.job?.text).toBe("Back up done: snapshot 1a2b3c4d");
    const otherNetwork = networkDetail(networkStatus(), inputs({ lastJob: job({ network: "club" }) }));
    expect(otherNetwork.job).toBeUndefined();
  });

  it("shows backups: last success, next due, repository size and free space, and the problem", () => {
    const detail = networkDetail(
      networkStatus({
        backupState: "overdue",
        backupLastSuccess: new Date(2026, 11, 1, 3, 0).getTime(),
        backupLastAttempt: new Date(2026, 11, 3, 3, 0).getTime(),
        backupNextDue: new Date(2026, 11, 3, 11, 0).getTime(),
        backupError: "repository locked",
        backupRepositorySize: 5 * 1024 * 1024,
        backupFreeSpace: 3 * 1024 ** 3,
      }),
      inputs(),
    );
    expect(detail.backups).toEqual({
      configured: true,
      state: "overdue",
      lastSuccess: "2026-12-01 03:00",
      nextDue: "2026-12-03 11:00",
      repository: "5.0 MiB, 3.0 GiB free at the target",
      problem: "repository locked",
      canBackUp: true,
      snapshots: [],
      snapshotsNote: "reading the snapshots",
    });
    const none = networkDetail(networkStatus({ backupState: "unknown" }), inputs());
    expect([none.backups.configured, none.backups.state, none.backups.canBackUp]).toEqual([false, "no backup configured", false]);
  });

  it("says what the network may touch: shares with their grant, forwards and network mode", () => {
    const detail = networkDetail(
      networkStatus({
        networkMode: "user",
        shares: [
          { tag: "photos", path: "/home/u/Photos", readWrite: false, granted: true },
          { tag: "docs", path: "/home/u/Documents", readWrite: true, granted: false },
        ],
        forwards: [{ hostPort: 8080, guestPort: 80 }],
      }),
      inputs({ notice: "Start failed: no" }),
    );
    expect(detail.access).toEqual({
      networkMode: "user",
      shares: ["photos: /home/u/Photos (read-only)", "docs: /home/u/Documents (read-write, not granted)"],
      forwards: ["host port 8080 → guest port 80"],
    });
    expect(detail.notice).toBe("Start failed: no");
  });

  it("writes sizes in binary units", () => {
    expect([formatBytes(-1), formatBytes(512), formatBytes(1536), formatBytes(2 * 1024 ** 4)]).toEqual(["unknown", "512 B", "1.5 KiB", "2.0 TiB"]);
  });
});

describe("the build log and the snapshots", () => {
  it("shows the build log's tail as inert text: escape sequences and bidi overrides escaped, lines kept, length bounded", () => {
    const log = "building\r\n\u001b]0;pwned\u0007<b>bold</b> \u202eexe.txt\nbuilt generation";
    const { update } = networkDetail(networkStatus(), inputs({ buildLog: { ok: true, value: log } }));
    expect(update.log).toBe("building\n\\x1b]0;pwned\\x07<b>bold</b> \\u202eexe.txt\nbuilt generation");
    const huge = `${"x".repeat(50_000)}\nthe end`;
    const long = networkDetail(networkStatus(), inputs({ buildLog: { ok: true, value: huge } })).update.log;
    expect(long.length).toBeLessThan(21_000);
    expect(long.startsWith("… (30008 earlier characters left out)\n")).toBe(true);
    expect(long.endsWith("\nthe end")).toBe(true);
    expect(networkDetail(networkStatus(), inputs({ buildLog: { ok: false, error: "no\u001b[2Jsuch" } })).update.log).toBe("cannot read the build log: no\\x1b[2Jsuch");
  });

  it("says a rebuild runs while the network builds or a rebuild job runs", () => {
    expect(networkDetail(networkStatus({ buildState: "building" }), inputs()).update.building).toBe(true);
    expect(networkDetail(networkStatus({ jobId: "rebuild-family-1", jobKind: "rebuild" }), inputs()).update.building).toBe(true);
    expect(networkDetail(networkStatus(), inputs()).update.building).toBe(false);
  });

  it("lists the snapshots newest first, restorable unless a job runs, and says why they could not be listed", () => {
    const backedUp = { backupState: "ok" as const, backupLastSuccess: NOW };
    const snapshots = [
      { id: "a".repeat(64), time: NOW - 3_600_000, size: 2048 },
      { id: "b".repeat(64), time: NOW, size: -1 },
    ];
    const { backups } = networkDetail(networkStatus(backedUp), inputs({ snapshots: { ok: true, value: snapshots } }));
    expect(backups.snapshots.map((row) => [row.title, row.subtitle, row.canRestore])).toEqual([
      ["Snapshot bbbbbbbb", "2026-12-03 12:00 (just now) · unknown", true],
      ["Snapshot aaaaaaaa", "2026-12-03 11:00 · 2.0 KiB", true],
    ]);
    expect(backups.snapshotsNote).toBe("");
    const busy = networkDetail(networkStatus({ ...backedUp, jobId: "backup-family-1", jobKind: "backup" }), inputs({ snapshots: { ok: true, value: snapshots } }));
    expect(busy.backups.snapshots.every((row) => !row.canRestore)).toBe(true);
    expect(networkDetail(networkStatus(backedUp), inputs()).backups.snapshotsNote).toBe("reading the snapshots");
    const failed = networkDetail(networkStatus(backedUp), inputs({ snapshots: { ok: false, error: "wrong password\u001b[0m" } }));
    expect(failed.backups.snapshotsNote).toBe("cannot list them: wrong password\\x1b[0m");
    expect(networkDetail(networkStatus({ backupState: "unknown" }), inputs()).backups.snapshotsNote).toBe("");
  });
});
