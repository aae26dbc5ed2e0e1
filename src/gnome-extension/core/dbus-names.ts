import type { SESSION_METHOD_SIGNATURES, SESSION_PROPERTY_SIGNATURES } from "./session-contract.js";

// The members of clan-sessiond's D-Bus API the extension uses. The names, and their signatures, come from
// session-contract.ts, which `npm run schemas` generates from src/shared/contracts/session.ts: a member renamed
// there fails to compile here.

/** Methods the menu and keybindings call. The long actions are jobs (StartRebuild, StartRollback, StartBackup:
 *  each returns a job id at once, docs/dbus.md "Jobs"); a clan-sessiond whose introspection lacks one leaves its
 *  item insensitive. */
export const SESSION_METHODS = {
  listNetworks: "ListNetworks",
  start: "Start",
  stop: "Stop",
  workspaceFocused: "WorkspaceFocused",
  startRebuild: "StartRebuild",
  startRollback: "StartRollback",
  startBackup: "StartBackup",
  /** Generations(s) → aa{sv}: the network's generations; "roll back" needs two. */
  generations: "Generations",
} as const satisfies Record<string, keyof typeof SESSION_METHOD_SIGNATURES>;

/** Property a{su}: network name → pid of the host process whose windows show its VM (SPICE viewer or waypipe
 *  client). Older clan-sessiond versions lack it: then no window is moved. */
export const VIEWER_PIDS_PROPERTY = "ViewerPids" satisfies keyof typeof SESSION_PROPERTY_SIGNATURES;

/** StartRollback(s network, i generation): -1 means "the previous generation". */
export const ROLLBACK_PREVIOUS = -1;
