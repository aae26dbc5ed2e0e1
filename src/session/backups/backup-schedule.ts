import type { BackupRecord } from "./backup-records.js";

// When a network's backup is due, when it is overdue, and what the bar shows: pure functions of what was recorded,
// the network's settings and the time now, so that they are tested with any clock. Due times follow the wall clock
// of the last success, not a timer that counted while the computer was off: a laptop that was closed over the
// due time backs up as soon as clan-sessiond runs again (catch-up).

const HOUR_MS = 3600_000;
/** After a failed attempt, the next one waits this long (or everyHours, when that is shorter). */
const RETRY_AFTER_FAILURE_MS = HOUR_MS;

export interface BackupTiming {
  everyHours: number;
  overdueAfterHours: number;
}

export type BackupState = "unknown" | "ok" | "running" | "overdue" | "failed";

/** When the next backup should start: `everyHours` after the last success, at once for a network never backed
 *  up, and no sooner than the retry delay after a failed attempt. */
export function nextDue(record: BackupRecord, timing: BackupTiming): number {
  const every = timing.everyHours * HOUR_MS;
  const due = record.lastSuccess === undefined ? record.firstConfigured : record.lastSuccess + every;
  if (!lastAttemptFailed(record)) return due;
  return Math.max(due, record.lastAttempt! + Math.min(every, RETRY_AFTER_FAILURE_MS));
}

/** The moment the network becomes overdue: `overdueAfterHours` after its last success or, never backed up, after
 *  clan-sessiond first saw its backup configured — a new network gets as long for its first backup as any other
 *  gets between two. */
function overdueAt(record: BackupRecord, timing: BackupTiming): number {
  return (record.lastSuccess ?? record.firstConfigured) + timing.overdueAfterHours * HOUR_MS;
}

export function isOverdue(record: BackupRecord, timing: BackupTiming, now: number): boolean {
  return now > overdueAt(record, timing);
}

/** Overdue outranks failed: a failure while the last success is still recent leaves the data covered, an overdue
 *  network is exposed whatever the reason (the error stays in backupError). */
export function backupState(record: BackupRecord, timing: BackupTiming, now: number, running: boolean): BackupState {
  if (running) return "running";
  if (isOverdue(record, timing, now)) return "overdue";
  if (lastAttemptFailed(record)) return "failed";
  return record.lastSuccess === undefined ? "unknown" : "ok";
}

/** The next moment something changes for this network by time alone: a backup falls due or it becomes overdue. */
export function nextEvent(record: BackupRecord, timing: BackupTiming, now: number): number {
  const overdue = overdueAt(record, timing);
  return overdue > now ? Math.min(nextDue(record, timing), overdue) : nextDue(record, timing);
}

/** Whether the overdue notification for the current stretch without a backup has yet to be shown. */
export function overdueNotificationPending(record: BackupRecord, timing: BackupTiming, now: number): boolean {
  return isOverdue(record, timing, now) && record.overdueNotifiedFor !== (record.lastSuccess ?? 0);
}

function lastAttemptFailed(record: BackupRecord): boolean {
  return record.lastAttempt !== undefined && record.lastError !== "";
}
