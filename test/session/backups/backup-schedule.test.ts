import { describe, expect, it } from "vitest";
import type { BackupRecord } from "../../../src/session/backups/backup-records.js";
import { backupState, isOverdue, nextDue, nextEvent, overdueNotificationPending } from "../../../src/session/backups/backup-schedule.js";

// The schedule on a controlled clock: every time here is a number the test chooses, never the machine's.

const HOUR = 3600_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAILY = { everyHours: 24, overdueAfterHours: 48 };

function record(change: Partial<BackupRecord> = {}): BackupRecord {
  return { firstConfigured: T0, lastError: "", snapshotSizes: {}, ...change };
}

describe("the backup schedule", () => {
  it("backs up a network at once when its backup is first configured", () => {
    expect(nextDue(record(), DAILY)).toBe(T0);
    expect(backupState(record(), DAILY, T0, false)).toBe("unknown");
  });

  it("is due every everyHours after the last success", () => {
    const backedUp = record({ lastSuccess: T0 + HOUR, lastAttempt: T0 + HOUR });
    expect(nextDue(backedUp, DAILY)).toBe(T0 + 25 * HOUR);
    expect(backupState(backedUp, DAILY, T0 + 2 * HOUR, false)).toBe("ok");
  });

  it("catches up after the computer was off over the due time: due is in the past, so it runs at once", () => {
    const backedUp = record({ lastSuccess: T0, lastAttempt: T0 });
    const wokeUp = T0 + 30 * HOUR;
    expect(nextDue(backedUp, DAILY)).toBeLessThanOrEqual(wokeUp);
    expect(isOverdue(backedUp, DAILY, wokeUp)).toBe(false);
  });

  it("retries a failed attempt an hour later, not in a loop, and not before the regular due time", () => {
    const failed = record({ lastSuccess: T0, lastAttempt: T0 + 24 * HOUR, lastError: "restic backup failed: …" });
    expect(nextDue(failed, DAILY)).toBe(T0 + 25 * HOUR);
    expect(backupState(failed, DAILY, T0 + 24 * HOUR, false)).toBe("failed");
    const hourly = { everyHours: 1, overdueAfterHours: 4 };
    const failedHourly = record({ lastSuccess: T0, lastAttempt: T0 + HOUR, lastError: "x" });
    expect(nextDue(failedHourly, hourly)).toBe(T0 + 2 * HOUR);
    const neverSucceeded = record({ lastAttempt: T0 + 10, lastError: "x" });
    expect(nextDue(neverSucceeded, DAILY)).toBe(T0 + 10 + HOUR);
  });

  it("is overdue once the last success is older than overdueAfterHours, and that outranks a failure", () => {
    const backedUp = record({ lastSuccess: T0, lastAttempt: T0 });
    expect(isOverdue(backedUp, DAILY, T0 + 48 * HOUR)).toBe(false);
    expect(isOverdue(backedUp, DAILY, T0 + 48 * HOUR + 1)).toBe(true);
    const failing = { ...backedUp, lastAttempt: T0 + 47 * HOUR, lastError: "wrong password" };
    expect(backupState(failing, DAILY, T0 + 47 * HOUR, false)).toBe("failed");
    expect(backupState(failing, DAILY, T0 + 49 * HOUR, false)).toBe("overdue");
    expect(backupState(failing, DAILY, T0 + 49 * HOUR, true)).toBe("running");
  });

  it("gives a network that was never backed up overdueAfterHours from when its backup was configured", () => {
    expect(isOverdue(record(), DAILY, T0 + 48 * HOUR)).toBe(false);
    expect(backupState(record({ lastAttempt: T0, lastError: "x" }), DAILY, T0 + 48 * HOUR + 1, false)).toBe("overdue");
  });

  it("tells the user once per stretch without a backup", () => {
    const late = T0 + 50 * HOUR;
    const backedUp = record({ lastSuccess: T0 });
    expect(overdueNotificationPending(backedUp, DAILY, T0 + HOUR)).toBe(false);
    expect(overdueNotificationPending(backedUp, DAILY, late)).toBe(true);
    expect(overdueNotificationPending({ ...backedUp, overdueNotifiedFor: T0 }, DAILY, late)).toBe(false);
    const newer = { ...backedUp, overdueNotifiedFor: T0, lastSuccess: T0 + 10 * HOUR };
    expect(overdueNotificationPending(newer, DAILY, T0 + 59 * HOUR)).toBe(true);
    expect(overdueNotificationPending(record(), DAILY, late)).toBe(true);
    expect(overdueNotificationPending(record({ overdueNotifiedFor: 0 }), DAILY, late)).toBe(false);
  });

  it("wakes for the next due time or the moment a network becomes overdue, whichever comes first", () => {
    const backedUp = record({ lastSuccess: T0 });
    expect(nextEvent(backedUp, DAILY, T0 + HOUR)).toBe(T0 + 24 * HOUR);
    const failing = record({ lastSuccess: T0, lastAttempt: T0 + 47.5 * HOUR, lastError: "x" });
    expect(nextEvent(failing, DAILY, T0 + 47.5 * HOUR)).toBe(T0 + 48 * HOUR);
    expect(nextEvent(failing, DAILY, T0 + 48.1 * HOUR)).toBe(T0 + 48.5 * HOUR);
  });
});
