import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackupRecord } from "../../../src/session/backups/backup-records.js";
import { BackupScheduler } from "../../../src/session/backups/backup-scheduler.js";

// The scheduler's timers on a controlled clock (vitest's fake timers move Date.now() and setTimeout together,
// and setSystemTime moves the wall clock alone, as a suspended laptop sees it). Backups here are records the
// test keeps: what a backup does is tested end to end in test/session/backup.e2e.test.ts.

const HOUR = 3600_000;
const DAILY = { everyHours: 24, overdueAfterHours: 48 };

function harness(records: Record<string, BackupRecord>) {
  const backedUp: { network: string; at: number }[] = [];
  const refreshed: { network: string; at: number }[] = [];
  let available = true;
  const scheduler = new BackupScheduler({
    now: () => Date.now(),
    networks: async () => Object.entries(records).map(([network, record]) => ({ network, timing: DAILY, record })),
    canRun: () => available,
    refresh: async (network) => void refreshed.push({ network, at: Date.now() }),
    backUp: async (network) => {
      backedUp.push({ network, at: Date.now() });
      records[network] = { ...records[network]!, lastSuccess: Date.now(), lastAttempt: Date.now() };
    },
    log: (message) => {
      throw new Error(`unexpected log: ${message}`);
    },
  });
  return {
    scheduler,
    backedUp,
    refreshed,
    setAvailable: (value: boolean) => {
      available = value;
    },
  };
}

describe("the backup scheduler", () => {
  const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it("runs what is due at once — a new network, one whose due time passed while it did not run — and nothing else", async () => {
    const { scheduler, backedUp } = harness({
      fresh: { firstConfigured: T0, lastError: "", snapshotSizes: {} },
      missed: { firstConfigured: T0 - 90 * HOUR, lastSuccess: T0 - 30 * HOUR, lastError: "", snapshotSizes: {} },
      recent: { firstConfigured: T0 - 90 * HOUR, lastSuccess: T0 - HOUR, lastError: "", snapshotSizes: {} },
    });
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(backedUp.map((b) => b.network)).toEqual(["fresh", "missed"]);
    scheduler.close();
  });

  it("backs up again when the next one falls due, by the wall clock", async () => {
    const { scheduler, backedUp } = harness({ family: { firstConfigured: T0, lastError: "", snapshotSizes: {} } });
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(24 * HOUR - 1);
    expect(backedUp).toEqual([{ network: "family", at: T0 }]);
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(backedUp.map((b) => b.at)).toEqual([T0, T0 + 24 * HOUR]);
    scheduler.close();
  });

  it("after a suspend over the due time, backs up within 15 minutes of waking", async () => {
    const { scheduler, backedUp } = harness({ family: { firstConfigured: T0, lastSuccess: T0, lastError: "", snapshotSizes: {} } });
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(HOUR);
    // Suspended for a day and a half: monotonic timers did not run, the wall clock moved on.
    vi.setSystemTime(T0 + 37 * HOUR);
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(backedUp).toHaveLength(1);
    expect(backedUp[0]!.at).toBeLessThanOrEqual(T0 + 37 * HOUR + 15 * 60_000);
    scheduler.close();
  });

  it("waits for clan-vmd without spinning, and runs what is due when poked as it appears", async () => {
    const { scheduler, backedUp, refreshed, setAvailable } = harness({ family: { firstConfigured: T0, lastError: "", snapshotSizes: {} } });
    setAvailable(false);
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(backedUp).toEqual([]);
    expect(refreshed.length).toBeLessThanOrEqual(5);
    setAvailable(true);
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(0);
    expect(backedUp).toHaveLength(1);
    scheduler.close();
  });

  it("looks again the moment a network becomes overdue, so the bar and the notification are on time", async () => {
    const lastSuccess = T0 - 47.5 * HOUR;
    const records = { family: { firstConfigured: T0 - 90 * HOUR, lastSuccess, lastAttempt: T0, lastError: "wrong password", snapshotSizes: {} } };
    const { scheduler, refreshed } = harness(records);
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(0);
    refreshed.length = 0;
    await vi.advanceTimersByTimeAsync(0.5 * HOUR);
    expect(refreshed.map((r) => r.at)).toContain(lastSuccess + 48 * HOUR);
    scheduler.close();
  });

  it("stops waking once closed", async () => {
    const { scheduler, refreshed } = harness({ family: { firstConfigured: T0, lastSuccess: T0, lastError: "", snapshotSizes: {} } });
    scheduler.poke();
    await vi.advanceTimersByTimeAsync(0);
    scheduler.close();
    const before = refreshed.length;
    await vi.advanceTimersByTimeAsync(48 * HOUR);
    expect(refreshed).toHaveLength(before);
  });
});
