// A network's status as clan-sessiond publishes it (the a{sv} of NetworkChanged and ListNetworks, see
// src/shared/session-api.ts). GNOME Shell has no zod, so the extension checks the unpacked dictionary here
// itself: a field of the wrong type is an error, a value this version does not know (a newer daemon's state)
// is kept and shown as unknown rather than breaking the menu.

export const VM_STATES = ["stopped", "starting", "running", "paused", "stopping", "failed", "unavailable"] as const;
export type VmState = (typeof VM_STATES)[number];

export const BACKUP_STATES = ["unknown", "ok", "running", "overdue", "failed"] as const;
export type BackupState = (typeof BACKUP_STATES)[number];

export const BUILD_STATES = ["idle", "building", "failed"] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export interface NetworkStatus {
  name: string;
  label: string;
  colour: string;
  workspaces: string[];
  /** "flake" (Rebuild works) or "profile" (a fixed profile: nothing to build); a newer daemon's kind stays as sent. */
  sourceKind: string;
  /** A state this version does not know stays as the daemon sent it; the summary treats it as a warning. */
  vmState: VmState | string;
  generation: string;
  error: string;
  focused: boolean;
  backupState: BackupState | string;
  /** Unix time in ms of the last successful backup, 0 when never. */
  backupLastSuccess: number;
  /** Unix time in ms of the last backup attempt, 0 when never. */
  backupLastAttempt: number;
  /** Why the last backup attempt failed, "" when it did not. */
  backupError: string;
  /** What to fix although backups work (a password file open to other users), "" when nothing. */
  backupWarning: string;
  /** Unix time in ms when the next backup is due, 0 when none is configured. */
  backupNextDue: number;
  /** Bytes in the backup repository, -1 when unknown. */
  backupRepositorySize: number;
  /** Bytes free at a local repository, -1 when unknown. */
  backupFreeSpace: number;
  updateAvailable: boolean;
  buildState: BuildState | string;
  /** 0..1 while building, -1 otherwise. */
  buildProgress: number;
  /** The network's VPN on the host: none, starting, up, down or in-guest. */
  vpnState: string;
  /** Peers with a handshake in the last three minutes. */
  vpnPeers: number;
  /** Unix time in ms of the latest handshake, 0 for never. */
  vpnLastHandshake: number;
  /** Host directories the network's generation shares, and whether the user granted each (docs/config.md). */
  shares: ShareAccess[];
  /** Host ports forwarded to the guest. */
  forwards: ForwardAccess[];
  /** The generation's network mode (user, none, vpn), "" when unknown. */
  networkMode: string;
  /** The job running on the network (docs/dbus.md, "Jobs"), "" when none; its kind, phase and progress (0..1, -1). */
  jobId: string;
  jobKind: string;
  jobPhase: string;
  jobProgress: number;
}

export interface ShareAccess {
  tag: string;
  path: string;
  readWrite: boolean;
  granted: boolean;
}

export interface ForwardAccess {
  hostPort: number;
  guestPort: number;
}

type FieldKind = "string" | "number" | "boolean" | "string[]" | "share[]" | "forward[]";

/** Every field and its JavaScript type after GLib.Variant.recursiveUnpack(). */
export const NETWORK_STATUS_FIELDS: Readonly<Record<keyof NetworkStatus, FieldKind>> = {
  name: "string",
  label: "string",
  colour: "string",
  workspaces: "string[]",
  sourceKind: "string",
  vmState: "string",
  generation: "string",
  error: "string",
  focused: "boolean",
  backupState: "string",
  backupLastSuccess: "number",
  backupLastAttempt: "number",
  backupError: "string",
  backupWarning: "string",
  backupNextDue: "number",
  backupRepositorySize: "number",
  backupFreeSpace: "number",
  updateAvailable: "boolean",
  buildState: "string",
  buildProgress: "number",
  vpnState: "string",
  vpnPeers: "number",
  vpnLastHandshake: "number",
  shares: "share[]",
  forwards: "forward[]",
  networkMode: "string",
  jobId: "string",
  jobKind: "string",
  jobPhase: "string",
  jobProgress: "number",
};

/** Defaults for fields an older daemon does not send yet; name, vmState and workspaces are required. */
const DEFAULTS: Partial<NetworkStatus> = {
  // An older daemon does not say: offer Rebuild, and let clan-sessiond's answer tell.
  sourceKind: "flake",
  generation: "",
  error: "",
  focused: false,
  backupState: "unknown",
  backupLastSuccess: 0,
  backupLastAttempt: 0,
  backupError: "",
  backupWarning: "",
  backupNextDue: 0,
  backupRepositorySize: -1,
  backupFreeSpace: -1,
  updateAvailable: false,
  buildState: "idle",
  buildProgress: -1,
  vpnState: "none",
  vpnPeers: 0,
  vpnLastHandshake: 0,
  shares: [],
  forwards: [],
  networkMode: "",
  jobId: "",
  jobKind: "",
  jobPhase: "",
  jobProgress: -1,
};

/** Longer strings are cut: a guest-influenced error message must not grow the panel menu without bound. */
const MAX_TEXT = 512;

const ITEM_FIELDS = {
  "share[]": { tag: "string", path: "string", readWrite: "boolean", granted: "boolean" },
  "forward[]": { hostPort: "number", guestPort: "number" },
} as const;

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === "string[]") return Array.isArray(value) && value.every((item) => typeof item === "string");
  if (kind === "share[]" || kind === "forward[]") {
    const fields = Object.entries(ITEM_FIELDS[kind]);
    return (
      Array.isArray(value) &&
      value.every((item) => typeof item === "object" && item !== null && fields.every(([key, type]) => typeof (item as Record<string, unknown>)[key] === type))
    );
  }
  if (kind === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === kind;
}

/** A share's path and tag come from the network's vm.json: cut like any other text before they reach the menu. */
function cutShare(share: ShareAccess): ShareAccess {
  return { tag: share.tag.slice(0, MAX_TEXT), path: share.path.slice(0, MAX_TEXT), readWrite: share.readWrite, granted: share.granted };
}

export function decodeNetworkStatus(raw: unknown): NetworkStatus {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("network status is not a dictionary");
  const input = raw as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(NETWORK_STATUS_FIELDS) as [keyof NetworkStatus, FieldKind][]) {
    const value = input[key];
    if (value === undefined && key in DEFAULTS) {
      result[key] = DEFAULTS[key];
      continue;
    }
    if (!hasKind(value, kind)) throw new Error(`network status field ${key} must be ${kind}, got ${typeof value}`);
    result[key] = typeof value === "string" ? value.slice(0, MAX_TEXT) : kind === "share[]" ? (value as ShareAccess[]).map(cutShare) : value;
  }
  const status = result as unknown as NetworkStatus;
  if (status.name === "") throw new Error("network status has an empty name");
  if (status.label === "") status.label = status.name;
  return status;
}
