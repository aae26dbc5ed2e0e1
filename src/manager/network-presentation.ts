import type { Job } from "../shared/job-api.js";
import { JOB_VERBS } from "../shared/job-api.js";
import type { BackupSnapshot, GenerationEntry, NetworkStatus } from "../shared/session-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { ReadResult } from "./network-read.js";

// What the manager window shows of a network, as plain data: the GTK widgets only copy these strings and flags
// into labels and buttons, so everything the window says is decided (and unit-tested) here. Text a guest or a
// peer could have written (errors, labels) is made safe to show: no control characters, bidi overrides or
// unbounded length.

/** A colour that is not "#rrggbb" (the config schema allows nothing else) is shown as neutral grey. */
const FALLBACK_COLOUR = "#888888";
const MAX_TEXT = 300;
/** The build log's tail the window shows: what a network's build prints has no bound of its own. */
const MAX_LOG_CHARS = 20_000;

export type WarningKind = "vm-failed" | "backup-failed" | "backup-overdue" | "update-available" | "vpn-down";

export interface NetworkWarning {
  kind: WarningKind;
  text: string;
}

export interface NetworkRow {
  name: string;
  title: string;
  colour: string;
  state: string;
  warnings: NetworkWarning[];
}

export interface VmSection {
  state: string;
  canStart: boolean;
  canStop: boolean;
  canPause: boolean;
  /** The network's last error, "" when none. */
  error: string;
}

export interface JobLine {
  /** "Rolling back: switching to generation 1", "Back up failed: …". */
  text: string;
  /** 0..1, or -1 when unknown or ended. */
  fraction: number;
  running: boolean;
}

export interface GenerationRow {
  number: number;
  title: string;
  date: string;
  revision: string;
  current: boolean;
  canRollBack: boolean;
}

export interface UpdateSection {
  text: string;
  canRebuild: boolean;
  /** A rebuild of the network runs now. */
  building: boolean;
  /** The tail of the last build's log, terminal-safe; "" when there is none. */
  log: string;
}

export interface SnapshotRow {
  id: string;
  title: string;
  subtitle: string;
  canRestore: boolean;
}

export interface BackupSection {
  configured: boolean;
  state: string;
  lastSuccess: string;
  nextDue: string;
  repository: string;
  problem: string;
  canBackUp: boolean;
  /** Newest first. */
  snapshots: SnapshotRow[];
  /** "reading the snapshots", why they could not be listed, or "" once they are. */
  snapshotsNote: string;
}

export interface AccessSection {
  networkMode: string;
  shares: string[];
  forwards: string[];
}

export interface NetworkDetail {
  name: string;
  title: string;
  colour: string;
  vm: VmSection;
  job: JobLine | undefined;
  generations: GenerationRow[];
  update: UpdateSection;
  backups: BackupSection;
  access: AccessSection;
  /** Why the window's last call for this network was refused, "" when it was not. */
  notice: string;
}

export function safeText(text: string): string {
  return terminalSafe(text, { maxChars: MAX_TEXT });
}

function safeColour(colour: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : FALLBACK_COLOUR;
}

function vmStateText(status: NetworkStatus): string {
  return status.vmState === "unavailable" ? "unknown (clan-vmd is not running)" : status.vmState;
}

function networkWarnings(status: NetworkStatus): NetworkWarning[] {
  const warnings: NetworkWarning[] = [];
  if (status.vmState === "failed") warnings.push({ kind: "vm-failed", text: "VM failed" });
  if (status.backupState === "failed") warnings.push({ kind: "backup-failed", text: "backup failed" });
  if (status.backupState === "overdue") warnings.push({ kind: "backup-overdue", text: "backup overdue" });
  if (status.updateAvailable) warnings.push({ kind: "update-available", text: "update available" });
  if (status.vpnState === "down") warnings.push({ kind: "vpn-down", text: "VPN down" });
  return warnings;
}

function networkRow(status: NetworkStatus): NetworkRow {
  return {
    name: status.name,
    title: safeText(status.label || status.name),
    colour: safeColour(status.colour),
    state: vmStateText(status),
    warnings: networkWarnings(status),
  };
}

/** Rows sorted by what the user reads (the title), the network name breaking ties. */
export function networkRows(networks: readonly NetworkStatus[]): NetworkRow[] {
  return networks.map(networkRow).sort((a, b) => a.title.localeCompare(b.title) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const JOB_TITLES: Readonly<Record<Job["kind"], string>> = { rebuild: "Rebuild", rollback: "Roll back", backup: "Back up", restore: "Restore" };

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The running job from the network's status, else the outcome of the last job the window saw end. */
function jobLine(status: NetworkStatus, lastJob: Job | undefined): JobLine | undefined {
  if (status.jobId !== "" && status.jobKind !== "") {
    const phase = status.jobPhase ? `: ${safeText(status.jobPhase)}` : "";
    return { text: `${capitalised(JOB_VERBS[status.jobKind])}${phase}`, fraction: status.jobProgress, running: true };
  }
  if (!lastJob || lastJob.network !== status.name || lastJob.state === "running") return undefined;
  const title = JOB_TITLES[lastJob.kind];
  return lastJob.state === "failed"
    ? { text: `${title} failed: ${safeText(lastJob.error)}`, fraction: -1, running: false }
    : { text: `${title} done${lastJob.result ? `: ${safeText(lastJob.result)}` : ""}`, fraction: -1, running: false };
}

export function formatTime(ms: number, now: number): string {
  if (ms <= 0) return "never";
  const date = new Date(ms);
  const pad = (value: number) => String(value).padStart(2, "0");
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const ago = now - ms;
  if (ago >= 0 && ago < 60_000) return `${day} ${time} (just now)`;
  return `${day} ${time}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 0) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function generationRows(generations: readonly GenerationEntry[], busy: boolean, now: number): GenerationRow[] {
  return [...generations]
    .sort((a, b) => b.number - a.number)
    .map((generation) => ({
      number: generation.number,
      title: `Generation ${generation.number}${generation.current ? " (current)" : ""}`,
      date: formatTime(generation.createdAt, now),
      revision: generation.revision ? `revision ${safeText(generation.revision.slice(0, 12))}` : "revision unknown",
      current: generation.current,
      canRollBack: !generation.current && !busy,
    }));
}

/** Whether the network has a backup configured (clan-sessiond then publishes a state or a schedule). */
export function hasBackup(status: NetworkStatus): boolean {
  return status.backupState !== "unknown" || status.backupLastAttempt > 0 || status.backupNextDue > 0;
}

/** The log's last MAX_LOG_CHARS characters, with its control characters and escape sequences shown escaped. */
function buildLogText(log: string): string {
  const cut = Math.max(0, log.length - MAX_LOG_CHARS);
  const tail = terminalSafe(log.slice(cut), { multiline: true });
  return cut > 0 ? `… (${cut} earlier characters left out)\n${tail}` : tail;
}

function snapshotRows(snapshots: readonly BackupSnapshot[], canRestore: boolean, now: number): SnapshotRow[] {
  return [...snapshots]
    .sort((a, b) => b.time - a.time)
    .map((snapshot) => ({
      id: snapshot.id,
      title: `Snapshot ${safeText(snapshot.id.slice(0, 8))}`,
      subtitle: `${formatTime(snapshot.time, now)} · ${formatBytes(snapshot.size)}`,
      canRestore,
    }));
}

function backupSection(status: NetworkStatus, busy: boolean, inputs: DetailInputs): BackupSection {
  const { now, snapshots } = inputs;
  const configured = hasBackup(status);
  const problem = [status.backupError, status.backupWarning].filter(Boolean).map(safeText).join("; ");
  const size = formatBytes(status.backupRepositorySize);
  const free = status.backupFreeSpace >= 0 ? `, ${formatBytes(status.backupFreeSpace)} free at the target` : "";
  return {
    configured,
    state: configured ? status.backupState : "no backup configured",
    lastSuccess: formatTime(status.backupLastSuccess, now),
    nextDue: status.backupNextDue > 0 ? formatTime(status.backupNextDue, now) : "not scheduled",
    repository: `${size}${free}`,
    problem,
    canBackUp: configured && !busy && status.backupState !== "running",
    snapshots: snapshots?.ok ? snapshotRows(snapshots.value, !busy && status.backupState !== "running", now) : [],
    snapshotsNote: !configured || snapshots?.ok ? "" : snapshots ? `cannot list them: ${safeText(snapshots.error)}` : "reading the snapshots",
  };
}

function accessSection(status: NetworkStatus): AccessSection {
  return {
    networkMode: status.networkMode ? safeText(status.networkMode) : "unknown (no generation to read)",
    shares: status.shares.map(
      (share) => `${safeText(share.tag)}: ${safeText(share.path)} (${share.readWrite ? "read-write" : "read-only"}${share.granted ? "" : ", not granted"})`,
    ),
    forwards: status.forwards.map((forward) => `host port ${forward.hostPort} → guest port ${forward.guestPort}`),
  };
}

export interface DetailInputs {
  generations: readonly GenerationEntry[];
  lastJob: Job | undefined;
  notice: string;
  /** The last read of the network's build log and of its snapshots; undefined until one answered. */
  buildLog?: ReadResult<string> | undefined;
  snapshots?: ReadResult<BackupSnapshot[]> | undefined;
  now: number;
}

export function networkDetail(status: NetworkStatus, inputs: DetailInputs): NetworkDetail {
  const { generations, lastJob, notice, now } = inputs;
  const busy = status.jobId !== "" || status.buildState === "building";
  const state = status.vmState;
  return {
    name: status.name,
    title: safeText(status.label || status.name),
    colour: safeColour(status.colour),
    vm: {
      state: vmStateText(status),
      canStart: state === "stopped" || state === "paused" || state === "failed",
      canStop: state === "running" || state === "paused" || state === "starting",
      canPause: state === "running",
      error: status.error ? safeText(status.error) : "",
    },
    job: jobLine(status, lastJob),
    generations: generationRows(generations, busy, now),
    update: {
      text: status.buildState === "failed" ? "the last rebuild failed" : status.updateAvailable ? "an update is available" : "up to date",
      canRebuild: !busy,
      building: status.buildState === "building" || status.jobKind === "rebuild",
      log: !inputs.buildLog ? "" : inputs.buildLog.ok ? buildLogText(inputs.buildLog.value) : `cannot read the build log: ${safeText(inputs.buildLog.error)}`,
    },
    backups: backupSection(status, busy, inputs),
    access: accessSection(status),
    notice: notice ? safeText(notice) : "",
  };
}
