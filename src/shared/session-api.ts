import { z } from "zod";
import { dictionary, list } from "./contracts/define.js";
import { JobKind } from "./job-api.js";
import { VmState, VPN_STATUS_FIELDS, VpnStatusFields } from "./vm-api.js";

// The payloads of clan-sessiond's D-Bus API (contracts/session.ts): each zod schema and, beside it, its a{sv}
// dictionary. A network's status is published to the bar, clanctl and the GNOME extension as one flat a{sv}
// (flat, so that GJS and shell scripts read it without nested variants). Its defaults stand in for fields an
// older clan-sessiond does not send; the GNOME extension gets the same defaults (contracts/gnome-data.ts).

const ShareAccess = z.object({ tag: z.string(), path: z.string(), readWrite: z.boolean(), granted: z.boolean() });
const ForwardAccess = z.object({ hostPort: z.number().int(), guestPort: z.number().int() });

const ShareAccessDictionary = dictionary("ShareAccess", ShareAccess, {
  tag: { codec: "s", doc: "the share's tag" },
  path: { codec: "s", doc: "the host directory, as vm.json gives it" },
  readWrite: { codec: "b", doc: "whether the guest may write" },
  granted: { codec: "b", doc: "whether the user's `grants` allow it; clan-vmd refuses to boot otherwise" },
});
const ForwardAccessDictionary = dictionary("ForwardAccess", ForwardAccess, {
  hostPort: { codec: "u", doc: "the port on the host's loopback" },
  guestPort: { codec: "u", doc: "the port in the guest" },
});

export const NetworkVmState = z.union([VmState, z.literal("unavailable")]);
export type NetworkVmState = z.infer<typeof NetworkVmState>;

export const NetworkStatus = z.object({
  name: z.string(),
  label: z.string(),
  colour: z.string(),
  workspaces: z.array(z.string()),
  /** What the network boots: a flake clan-desktop builds ("flake", Rebuild works) or a fixed profile ("profile").
   *  An older daemon does not say: "flake" offers Rebuild and lets clan-sessiond's answer tell. */
  sourceKind: z.enum(["flake", "profile"]).default("flake"),
  /** "unavailable" while clan-vmd is not on the bus. */
  vmState: NetworkVmState,
  generation: z.string().default(""),
  /** The last error of this network's VM or of an action on it; "" when there is none. */
  error: z.string().default(""),
  focused: z.boolean().default(false),
  /** "unknown" when the network has no backup configured (docs/backups.md). */
  backupState: z.enum(["unknown", "ok", "running", "overdue", "failed"]).default("unknown"),
  /** Unix time in ms of the last successful backup, 0 when never. */
  backupLastSuccess: z.number().default(0),
  /** Unix time in ms of the last backup attempt, successful or not, 0 when never. */
  backupLastAttempt: z.number().default(0),
  /** Why the last backup attempt failed; "" when it succeeded or none was made. */
  backupError: z.string().default(""),
  /** What the user should fix although backups work (a password file open to other users); "" when nothing. */
  backupWarning: z.string().default(""),
  /** Unix time in ms when the next scheduled backup is due, 0 when none is configured. */
  backupNextDue: z.number().default(0),
  /** Bytes the restic repository holds, -1 when unknown (not measured yet). */
  backupRepositorySize: z.number().default(-1),
  /** Bytes free where a local repository lives, -1 when unknown (sftp and REST repositories). */
  backupFreeSpace: z.number().default(-1),
  updateAvailable: z.boolean().default(false),
  buildState: z.enum(["idle", "building", "failed"]).default("idle"),
  /** 0..1 while building, -1 otherwise. */
  buildProgress: z.number().default(-1),
  /** The network's VPN on this host (docs/vpn.md): "none" while its VM runs none here. */
  ...VpnStatusFields.shape,
  // What the network's generation asks of this host (the booted one, else the profile's current one) and whether
  // the user's grants allow each share (docs/config.md, grants).
  shares: z.array(ShareAccess).default([]),
  forwards: z.array(ForwardAccess).default([]),
  /** The generation's network mode (user, none, vpn); "" when no generation can be read. */
  networkMode: z.string().default(""),
  /** The job running on this network (the latest started when several run), "" when none (docs/dbus.md). */
  jobId: z.string().default(""),
  jobKind: z.union([JobKind, z.literal("")]).default(""),
  /** The job's phase and its fraction (0..1, -1 when unknown), as in its JobChanged. */
  jobPhase: z.string().default(""),
  jobProgress: z.number().default(-1),
});
export type NetworkStatus = z.infer<typeof NetworkStatus>;

/** The backup fields of a network without a backup configuration, or before its first attempt. */
export const BACKUP_NOT_CONFIGURED = {
  backupState: "unknown",
  backupLastSuccess: 0,
  backupLastAttempt: 0,
  backupError: "",
  backupWarning: "",
  backupNextDue: 0,
  backupRepositorySize: -1,
  backupFreeSpace: -1,
} as const satisfies Partial<NetworkStatus>;

/** What is known of a network before anything has been learnt about it: a stopped VM, nothing built or backed up. */
export function initialNetworkStatus(name: string): NetworkStatus {
  return {
    name,
    label: name,
    colour: "#888888",
    workspaces: [],
    sourceKind: "flake",
    vmState: "stopped",
    generation: "",
    error: "",
    focused: false,
    ...BACKUP_NOT_CONFIGURED,
    updateAvailable: false,
    buildState: "idle",
    buildProgress: -1,
    vpnState: "none",
    vpnPeers: 0,
    vpnLastHandshake: 0,
    shares: [],
    forwards: [],
    networkMode: "",
    ...NO_JOB,
  };
}

/** The job fields of a network on which no job runs. */
export const NO_JOB = { jobId: "", jobKind: "", jobPhase: "", jobProgress: -1 } as const satisfies Partial<NetworkStatus>;

export const NetworkStatusDictionary = dictionary("NetworkStatus", NetworkStatus, {
  name: { codec: "s", doc: "the network's name in the config" },
  label: { codec: "s", doc: "the text of its `[label]` title prefix" },
  colour: { codec: "s", doc: "`#rrggbb`" },
  workspaces: { codec: "as", doc: "its workspaces, as the window manager names them" },
  sourceKind: { codec: "s", doc: "`flake` (clan-desktop builds it: Rebuild works) or `profile` (a fixed Nix profile: nothing to build)" },
  vmState: { codec: "s", doc: "a VM state as above, or `unavailable` while clan-vmd is not on the bus" },
  generation: { codec: "s", doc: "the generation directory that booted, `\"\"` when stopped" },
  error: { codec: "s", doc: "the last failure of the VM or of an action on it (start, rebuild, rollback…), `\"\"` when none" },
  focused: { codec: "b", doc: "whether the focused workspace is one of its workspaces" },
  backupState: {
    codec: "s",
    doc: "`unknown` (no backup configured, or none made yet), `ok`, `running`, `overdue` (the last success is older than `overdueAfterHours`; outranks `failed`), `failed` (the last attempt failed)",
  },
  backupLastSuccess: { codec: "d", doc: "Unix ms of the last successful backup, 0 when never" },
  backupLastAttempt: { codec: "d", doc: "Unix ms of the last attempt, successful or not, 0 when never" },
  backupError: { codec: "s", doc: "why the last attempt failed, `\"\"` when it did not; never contains the repository password" },
  backupWarning: {
    codec: "s",
    doc: "what to fix although backups work — a password file other users may read, with the `chmod 600` that fixes it; `\"\"` when nothing",
  },
  backupNextDue: { codec: "d", doc: "Unix ms when the next scheduled backup is due, 0 when no backup is configured" },
  backupRepositorySize: { codec: "d", doc: "bytes the restic repository stores, -1 when unknown" },
  backupFreeSpace: { codec: "d", doc: "bytes free at a local repository, -1 when unknown (sftp and REST repositories)" },
  updateAvailable: { codec: "b", doc: "its flake source has a revision newer than the current generation's" },
  buildState: { codec: "s", doc: "`idle`, `building`, `failed`" },
  buildProgress: { codec: "d", doc: "0..1 while building, -1 otherwise" },
  ...VPN_STATUS_FIELDS,
  // Lists of dictionaries (aa{sv}): GJS's recursiveUnpack() turns them into arrays of plain objects.
  shares: {
    codec: list(ShareAccessDictionary),
    doc: "the host directories the network's generation shares — the booted one while the VM runs, else the profile's current one",
  },
  forwards: { codec: list(ForwardAccessDictionary), doc: "the same generation's TCP port forwards" },
  networkMode: { codec: "s", doc: "the same generation's network mode (`user`, `none`, `vpn`), `\"\"` when no generation can be read" },
  jobId: { codec: "s", doc: "the [job](#jobs) running on the network (the latest started when several run), `\"\"` when none" },
  jobKind: { codec: "s", doc: "its kind: `rebuild`, `rollback`, `backup`, `restore`; `\"\"` when none" },
  jobPhase: { codec: "s", doc: "what it does now, as in its `JobChanged`" },
  jobProgress: { codec: "d", doc: "0..1 of the phase when known, -1 otherwise" },
});

/** One generation of a network's profile, as Generations(s) returns it. */
export const GenerationEntry = z.object({
  number: z.number().int(),
  createdAt: z.number(),
  current: z.boolean(),
  path: z.string(),
  /** The source revision it was built from; "" for generations clan-desktop did not build. */
  revision: z.string(),
});
export type GenerationEntry = z.infer<typeof GenerationEntry>;

export const GenerationDictionary = dictionary("Generation", GenerationEntry, {
  number: { codec: "u", doc: "its number in the profile" },
  createdAt: { codec: "d", doc: "Unix ms" },
  current: { codec: "b", doc: "whether the profile points at it" },
  path: { codec: "s", doc: "its directory" },
  revision: { codec: "s", doc: "the source revision it was built from; `\"\"` for generations clan-desktop did not build" },
});

/** One snapshot of a network's backup repository, as Backups(s) returns it. */
export const BackupSnapshot = z.object({
  /** restic's snapshot id (64 hex digits); Restore takes it or any unique prefix of 8 or more. */
  id: z.string(),
  /** Unix time in ms when the snapshot was taken. */
  time: z.number(),
  /** Bytes of the state disk image it holds, -1 when unknown. */
  size: z.number(),
});
export type BackupSnapshot = z.infer<typeof BackupSnapshot>;

export const BackupSnapshotDictionary = dictionary("BackupSnapshot", BackupSnapshot, {
  id: { codec: "s", doc: "restic's 64 hex digits" },
  time: { codec: "d", doc: "Unix ms" },
  size: { codec: "d", doc: "bytes of the disk image" },
});
