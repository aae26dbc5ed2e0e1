// Generated from src/shared/contracts/session.ts by `npm run schemas`; do not edit.
// GNOME Shell cannot import zod or src/shared, so the extension gets clan-sessiond's contract as plain data.

export const SESSION_BUS_NAME = "org.clan.Desktop.Session1";
export const SESSION_MANAGER_PATH = "/org/clan/Desktop/Session1";
export const SESSION_MANAGER_INTERFACE = "org.clan.Desktop.Session1.Manager";

/** Each method's argument and reply signatures, as GLib.Variant wants them. */
export const SESSION_METHOD_SIGNATURES = {
  ListNetworks: { in: "()", out: "(aa{sv})" },
  GetNetwork: { in: "(s)", out: "(a{sv})" },
  Start: { in: "(s)", out: "()" },
  Stop: { in: "(s)", out: "()" },
  Pause: { in: "(s)", out: "()" },
  Switch: { in: "(s)", out: "()" },
  StartRebuild: { in: "(s)", out: "(s)" },
  StartRollback: { in: "(si)", out: "(s)" },
  StartBackup: { in: "(s)", out: "(s)" },
  StartRestore: { in: "(ss)", out: "(s)" },
  Jobs: { in: "()", out: "(aa{sv})" },
  GetJob: { in: "(s)", out: "(a{sv})" },
  Rebuild: { in: "(s)", out: "()" },
  StartRebuildRevision: { in: "(ss)", out: "(s)" },
  Rollback: { in: "(si)", out: "()" },
  Generations: { in: "(s)", out: "(aa{sv})" },
  BuildLog: { in: "(s)", out: "(s)" },
  CheckUpdate: { in: "(s)", out: "(b)" },
  Peers: { in: "(s)", out: "(aa{sv})" },
  BlockPeer: { in: "(ss)", out: "()" },
  UnblockPeer: { in: "(ss)", out: "()" },
  BackupNow: { in: "(s)", out: "()" },
  Backups: { in: "(s)", out: "(aa{sv})" },
  Restore: { in: "(ss)", out: "(s)" },
  WorkspaceFocused: { in: "(s)", out: "()" },
  ReloadConfig: { in: "()", out: "()" },
  NetworkApplications: { in: "(s)", out: "(a{sv})" },
  SetNetworkApplications: { in: "(sss)", out: "(sas)" },
  CreateNetwork: { in: "(ssss)", out: "(s)" },
  NetworkUpdatePolicy: { in: "(s)", out: "(a{sv})" },
  SetNetworkUpdatePolicy: { in: "(sa{sv})", out: "()" },
  SetNotifications: { in: "(b)", out: "()" },
  Figures: { in: "(s)", out: "(a{sv})" },
  WatchFigures: { in: "(s)", out: "(s)" },
  UnwatchFigures: { in: "(s)", out: "()" },
  ConsoleLog: { in: "(s)", out: "(s)" },
} as const;

export const SESSION_PROPERTY_SIGNATURES = {
  FocusedNetwork: "s",
  ConfigError: "s",
  ViewerPids: "a{su}",
  Backend: "s",
  Notifications: "b",
} as const;

export const SESSION_SIGNAL_SIGNATURES = {
  NetworkChanged: "(a{sv})",
  NetworksChanged: "(as)",
  JobChanged: "(a{sv})",
  FiguresSampled: "(a{sv})",
  BuildLogChanged: "(a{sv})",
} as const;

/** A network's status (NetworkChanged, ListNetworks) after GLib.Variant.recursiveUnpack(). */
export interface NetworkStatusFields {
  /** the network's name in the config */
  name: string;
  /** the text of its `[label]` title prefix */
  label: string;
  /** `#rrggbb` */
  colour: string;
  /** its workspaces, as the window manager names them */
  workspaces: string[];
  /** `flake` (clan-desktop builds it: Rebuild works) or `profile` (a fixed Nix profile: nothing to build) */
  sourceKind: string;
  /** a VM state as above, or `unavailable` while clan-vmd is not on the bus */
  vmState: string;
  /** the generation directory that booted, `""` when stopped */
  generation: string;
  /** the last failure of the VM or of an action on it (start, rebuild, rollback…), `""` when none */
  error: string;
  /** whether the focused workspace is one of its workspaces */
  focused: boolean;
  /** `unknown` (no backup configured, or none made yet), `ok`, `running`, `overdue` (the last success is older than `overdueAfterHours`; outranks `failed`), `failed` (the last attempt failed) */
  backupState: string;
  /** Unix ms of the last successful backup, 0 when never */
  backupLastSuccess: number;
  /** Unix ms of the last attempt, successful or not, 0 when never */
  backupLastAttempt: number;
  /** why the last attempt failed, `""` when it did not; never contains the repository password */
  backupError: string;
  /** what to fix although backups work — a password file other users may read, with the `chmod 600` that fixes it; `""` when nothing */
  backupWarning: string;
  /** Unix ms when the next scheduled backup is due, 0 when no backup is configured */
  backupNextDue: number;
  /** bytes the restic repository stores, -1 when unknown */
  backupRepositorySize: number;
  /** bytes free at a local repository, -1 when unknown (sftp and REST repositories) */
  backupFreeSpace: number;
  /** its flake source has a revision newer than the current generation's */
  updateAvailable: boolean;
  /** `idle`, `building`, `failed` */
  buildState: string;
  /** 0..1 while building, -1 otherwise */
  buildProgress: number;
  /** the network's VPN on this host: `none`, `starting`, `up`, `down` (its endpoint died), `in-guest` ([vpn.md](vpn.md)) */
  vpnState: string;
  /** peers with a handshake in the last three minutes */
  vpnPeers: number;
  /** Unix time in ms of the latest handshake with any peer, 0 for never */
  vpnLastHandshake: number;
  /** the host directories the network's generation shares — the booted one while the VM runs, else the profile's current one */
  shares: { tag: string; path: string; readWrite: boolean; granted: boolean }[];
  /** the same generation's TCP port forwards */
  forwards: { hostPort: number; guestPort: number }[];
  /** the same generation's network mode (`user`, `none`, `vpn`), `""` when no generation can be read */
  networkMode: string;
  /** the [job](#jobs) running on the network (the latest started when several run), `""` when none */
  jobId: string;
  /** its kind: `rebuild`, `rollback`, `backup`, `restore`; `""` when none */
  jobKind: string;
  /** what it does now, as in its `JobChanged` */
  jobPhase: string;
  /** 0..1 of the phase when known, -1 otherwise */
  jobProgress: number;
}

/** Every field, its D-Bus signature and the JavaScript type recursiveUnpack() gives. */
export const NETWORK_STATUS_FIELDS = {
  name: { signature: "s", kind: "string" },
  label: { signature: "s", kind: "string" },
  colour: { signature: "s", kind: "string" },
  workspaces: { signature: "as", kind: "string[]" },
  sourceKind: { signature: "s", kind: "string" },
  vmState: { signature: "s", kind: "string" },
  generation: { signature: "s", kind: "string" },
  error: { signature: "s", kind: "string" },
  focused: { signature: "b", kind: "boolean" },
  backupState: { signature: "s", kind: "string" },
  backupLastSuccess: { signature: "d", kind: "number" },
  backupLastAttempt: { signature: "d", kind: "number" },
  backupError: { signature: "s", kind: "string" },
  backupWarning: { signature: "s", kind: "string" },
  backupNextDue: { signature: "d", kind: "number" },
  backupRepositorySize: { signature: "d", kind: "number" },
  backupFreeSpace: { signature: "d", kind: "number" },
  updateAvailable: { signature: "b", kind: "boolean" },
  buildState: { signature: "s", kind: "string" },
  buildProgress: { signature: "d", kind: "number" },
  vpnState: { signature: "s", kind: "string" },
  vpnPeers: { signature: "u", kind: "number" },
  vpnLastHandshake: { signature: "d", kind: "number" },
  shares: { signature: "aa{sv}", kind: "share[]" },
  forwards: { signature: "aa{sv}", kind: "forward[]" },
  networkMode: { signature: "s", kind: "string" },
  jobId: { signature: "s", kind: "string" },
  jobKind: { signature: "s", kind: "string" },
  jobPhase: { signature: "s", kind: "string" },
  jobProgress: { signature: "d", kind: "number" },
} as const;

/** The fields of the items of the list fields (aa{sv}). */
export const NETWORK_STATUS_ITEM_FIELDS = {
  "share[]": { tag: "string", path: "string", readWrite: "boolean", granted: "boolean" },
  "forward[]": { hostPort: "number", guestPort: "number" },
} as const;

/** What stands in for a field an older clan-sessiond does not send; the others are required. */
export const NETWORK_STATUS_DEFAULTS: Partial<NetworkStatusFields> = {
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

export const VM_STATES = ["stopped","starting","running","paused","stopping","failed","unavailable"] as const;
export const BACKUP_STATES = ["unknown","ok","running","overdue","failed"] as const;
export const BUILD_STATES = ["idle","building","failed"] as const;
