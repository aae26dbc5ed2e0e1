import { ROLLBACK_PREVIOUS, SESSION_METHODS } from "./dbus-names.js";
import { SESSION_METHOD_SIGNATURES } from "./session-contract.js";

// What each menu item and keybinding does. "switch" is done by the shell itself (clan-sessiond's Switch asks
// the window manager backend, and on GNOME the extension is that backend); the others are clan-sessiond calls.
// Rebuild, rollback and backup start jobs: the call returns at once, and the network's status carries the job's
// progress to the menu; clan-sessiond tells the outcome in one notification.

const ACTION_IDS = ["switch", "rebuild", "rollback", "backup", "stop"] as const;
export type ActionId = (typeof ACTION_IDS)[number];

export interface DbusCall {
  method: string;
  /** A GVariant tuple signature of the arguments. */
  signature: string;
  args: (string | number)[];
}

export function actionCall(action: Exclude<ActionId, "switch">, network: string): DbusCall {
  switch (action) {
    case "rebuild":
      return { method: SESSION_METHODS.startRebuild, signature: SESSION_METHOD_SIGNATURES.StartRebuild.in, args: [network] };
    case "rollback":
      return { method: SESSION_METHODS.startRollback, signature: SESSION_METHOD_SIGNATURES.StartRollback.in, args: [network, ROLLBACK_PREVIOUS] };
    case "backup":
      return { method: SESSION_METHODS.startBackup, signature: SESSION_METHOD_SIGNATURES.StartBackup.in, args: [network] };
    case "stop":
      return { method: SESSION_METHODS.stop, signature: SESSION_METHOD_SIGNATURES.Stop.in, args: [network] };
  }
}

/** The method an action needs on the bus, so that an item is insensitive when clan-sessiond lacks it. */
export function requiredMethod(action: ActionId): string | undefined {
  return action === "switch" ? undefined : actionCall(action, "").method;
}

/** Keybindings of the GSettings schema (schemas/*.gschema.xml) and the action each runs on the focused network. */
export const KEYBINDINGS: readonly { key: string; action: "rebuild" | "rollback" }[] = [
  { key: "rebuild-focused-network", action: "rebuild" },
  { key: "rollback-focused-network", action: "rollback" },
];

export type KeybindingOutcome = { call: DbusCall } | { refusal: string };

/** What pressing a keybinding does: a call on the focused network, or why nothing happens (shown to the user). */
export function keybindingOutcome(action: "rebuild" | "rollback", focused: string, available: ReadonlySet<string>): KeybindingOutcome {
  if (focused === "") return { refusal: `no network is focused: switch to a network's workspace to ${action} it` };
  const call = actionCall(action, focused);
  if (!available.has(call.method)) return { refusal: `clan-sessiond cannot ${action} yet (it has no ${call.method} method)` };
  return { call };
}
