import { KEYBINDINGS } from "../core/actions.js";
import type Gio from "gi://Gio";
import type { Lifetime } from "../core/lifetime.js";
import type { Platform } from "./platform.js";

// Rebuild and roll back the focused network from the keyboard. The accelerators live in the extension's
// GSettings schema (keys *-focused-network, type as), which the preferences window edits; GNOME re-reads them
// when they change.

export function addKeybindings(platform: Platform, settings: Gio.Settings, lifetime: Lifetime, run: (action: "rebuild" | "rollback") => void): void {
  const { Main, Meta, Shell } = platform;
  for (const { key, action } of KEYBINDINGS) {
    const modes = Shell.ActionMode.NORMAL | Shell.ActionMode.OVERVIEW;
    Main.wm.addKeybinding(key, settings, Meta.KeyBindingFlags.NONE, modes, () => run(action));
    lifetime.add(`keybinding ${key}`, () => Main.wm.removeKeybinding(key));
  }
}
