// clan-sessiond's D-Bus names as the extension uses them. The extension runs inside GNOME Shell and cannot import
// src/shared at run time, so these are copies; test/gnome-extension/dbus-names.test.ts fails when they drift
// from src/shared/dbus-names.ts, which stays the one source of truth.

export const SESSION_BUS_NAME = "org.clan.Desktop.Session1";
export const SESSION_MANAGER_PATH = "/org/clan/Desktop/Session1";
export const SESSION_MANAGER_INTERFACE = "org.clan.Desktop.Session1.Manager";

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
} as const;

/** Property a{su}: network name → pid of the host process whose windows show its VM (SPICE viewer or waypipe
 *  client). Older clan-sessiond versions lack it: then no window is moved. */
export const VIEWER_PIDS_PROPERTY = "ViewerPids";

/** StartRollback(s network, i generation): -1 means "the previous generation". */
export const ROLLBACK_PREVIOUS = -1;
