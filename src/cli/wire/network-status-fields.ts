// Generated from src/shared/contracts/session.ts by `npm run schemas`; do not edit.
// clanctl's one-shot commands read a network status without zod (network-status-decoder.ts): these are its fields.

/** Every field of a network status and its D-Bus signature. */
export const NETWORK_STATUS_FIELDS = {
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
  shares: "aa{sv}",
  forwards: "aa{sv}",
  networkMode: "s",
  jobId: "s",
  jobKind: "s",
  jobPhase: "s",
  jobProgress: "d",
} as const;

/** The fields of the items of the list fields (aa{sv}). */
export const NETWORK_STATUS_ITEM_FIELDS = {
  shares: { tag: "s", path: "s", readWrite: "b", granted: "b" },
  forwards: { hostPort: "u", guestPort: "u" },
} as const;

/** What stands in for a field an older clan-sessiond does not send; the others are required. */
export const NETWORK_STATUS_DEFAULTS = {
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
