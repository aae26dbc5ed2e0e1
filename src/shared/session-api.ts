import { Variant } from "@jellybrick/dbus-next";
import { z } from "zod";
import { JobKind } from "./job-api.js";
import { unwrapVariants, VmState, VpnState } from "./vm-api.js";

export const ShareAccess = z.object({ tag: z.string(), path: z.string(), readWrite: z.boolean(), granted: z.boolean() });
export const ForwardAccess = z.object({ hostPort: z.number().int(), guestPort: z.number().int() });

// A network's status as clan-sessiond publishes it to the bar, clanctl and the GNOME extension: one flat a{sv}
// dictionary (flat, so that GJS and shell scripts read it without nested variants).

export const NetworkVmState = z.union([VmState, z.literal("unavailable")]);
export type NetworkVmState = z.infer<typeof NetworkVmState>;

export const NetworkStatus = z.object({
  name: z.string(),
  label: z.string(),
  colour: z.string(),
  workspaces: z.array(z.string()),
  /** What the network boots: a flake clan-desktop builds ("flake", Rebuild works) or a fixed profile ("profile"). */
  sourceKind: z.enum(["flake", "profile"]),
  /** "unavailable" while clan-vmd is not on the bus. */
  vmState: NetworkVmState,
  generation: z.string(),
  /** The last error of this network's VM or of an action on it; "" when there is none. */
  error: z.string(),
  focused: z.boolean(),
  /** "unknown" when the network has no backup configured (docs/backups.md). */
  backupState: z.enum(["unknown", "ok", "running", "overdue", "failed"]),
  /** Unix time in ms of the last successful backup, 0 when never. */
  backupLastSuccess: z.number(),
  /** Unix time in ms of the last backup attempt, successful or not, 0 when never. */
  backupLastAttempt: z.number(),
  /** Why the last backup attempt failed; "" when it succeeded or none was made. */
  backupError: z.string(),
  /** What the user should fix although backups work (a password file open to other users); "" when nothing. */
  backupWarning: z.string(),
  /** Unix time in ms when the next scheduled backup is due, 0 when none is configured. */
  backupNextDue: z.number(),
  /** Bytes the restic repository holds, -1 when unknown (not measured yet). */
  backupRepositorySize: z.number(),
  /** Bytes free where a local repository lives, -1 when unknown (sftp and REST repositories). */
  backupFreeSpace: z.number(),
  updateAvailable: z.boolean(),
  buildState: z.enum(["idle", "building", "failed"]),
  /** 0..1 while building, -1 otherwise. */
  buildProgress: z.number(),
  /** The network's VPN on this host (docs/vpn.md): "none" while its VM runs none here. */
  vpnState: VpnState,
  /** Peers with a handshake in the last three minutes. */
  vpnPeers: z.number(),
  /** Unix time in ms of the latest handshake with any peer, 0 for never. */
  vpnLastHandshake: z.number(),
  // What the network's generation asks of this host (the booted one, else the profile's current one) and whether
  // the user's grants allow each share (docs/config.md, grants). Defaults: a clan-sessiond from before sends none.
  shares: z.array(ShareAccess).default([]),
  forwards: z.array(ForwardAccess).default([]),
  /** The generation's network mode (user, none, vpn); "" when no generation can be read. */
  networkMode: z.string().default(""),
  /** The job running on this network (the latest started when several run), "" when none (docs/dbus.md). */
  jobId: z.string(),
  jobKind: z.union([JobKind, z.literal("")]),
  /** The job's phase and its fraction (0..1, -1 when unknown), as in its JobChanged. */
  jobPhase: z.string(),
  jobProgress: z.number(),
});
export type NetworkStatus = z.infer<typeof NetworkStatus>;

export const NETWORK_STATUS_SIGNATURE = "a{sv}";

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
    sourceKind: "profile",
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

type FlatField = Exclude<keyof NetworkStatus, "shares" | "forwards">;

const SIGNATURES: Record<FlatField, string> = {
  name: "s",
  label: "s",
  colour: "s",
  workspaces: "as",
  sourceKind: "s",
  vmState: "s",
  generation: "s",
  error: "s",
  focused: "b",
  backupState: "s",
  backupLastSuccess: "d",
  backupLastAttempt: "d",
  backupError: "s",
  backupWarning: "s",
  backupNextDue: "d",
  backupRepositorySize: "d",
  backupFreeSpace: "d",
  updateAvailable: "b",
  buildState: "s",
  buildProgress: "d",
  vpnState: "s",
  vpnPeers: "u",
  vpnLastHandshake: "d",
  networkMode: "s",
  jobId: "s",
  jobKind: "s",
  jobPhase: "s",
  jobProgress: "d",
};

export function encodeNetworkStatus(status: NetworkStatus): Record<string, Variant> {
  const flat = (Object.keys(SIGNATURES) as FlatField[]).map((key) => [key, new Variant(SIGNATURES[key], status[key])]);
  return {
    ...Object.fromEntries(flat),
    // Lists of dictionaries (aa{sv}): GJS's recursiveUnpack() turns them into arrays of plain objects.
    shares: new Variant(
      "aa{sv}",
      status.shares.map((share) => ({
        tag: new Variant("s", share.tag),
        path: new Variant("s", share.path),
        readWrite: new Variant("b", share.readWrite),
        granted: new Variant("b", share.granted),
      })),
    ),
    forwards: new Variant(
      "aa{sv}",
      status.forwards.map((forward) => ({ hostPort: new Variant("u", forward.hostPort), guestPort: new Variant("u", forward.guestPort) })),
    ),
  };
}

export function decodeNetworkStatus(raw: unknown): NetworkStatus {
  const fields = unwrapVariants(raw);
  for (const key of ["shares", "forwards"]) {
    if (Array.isArray(fields[key])) fields[key] = fields[key].map((item: unknown) => unwrapVariants(item));
  }
  return NetworkStatus.parse(fields);
}

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

export function encodeGeneration(generation: GenerationEntry): Record<string, Variant> {
  return {
    number: new Variant("u", generation.number),
    createdAt: new Variant("d", generation.createdAt),
    current: new Variant("b", generation.current),
    path: new Variant("s", generation.path),
    revision: new Variant("s", generation.revision),
  };
}

export function decodeGeneration(raw: unknown): GenerationEntry {
  return GenerationEntry.parse(unwrapVariants(raw));
}

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

export function encodeBackupSnapshot(snapshot: BackupSnapshot): Record<string, Variant> {
  return {
    id: new Variant("s", snapshot.id),
    time: new Variant("d", snapshot.time),
    size: new Variant("d", snapshot.size),
  };
}

export function decodeBackupSnapshot(raw: unknown): BackupSnapshot {
  return BackupSnapshot.parse(unwrapVariants(raw));
}
