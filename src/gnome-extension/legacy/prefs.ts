import type { fillPreferences as fillPreferencesFunction } from "../shell/prefs-page.js";
import type Adw from "gi://Adw";
import type { LegacyImports } from "./imports.js";

// Preferences for GNOME Shell 43–44 (the older module format): the same page as prefs.ts builds for 45+.

const legacy = imports as unknown as LegacyImports;
const ExtensionUtils = legacy.misc.extensionUtils;
const Me = ExtensionUtils.getCurrentExtension();
const { fillPreferences } = Me.imports.shell!["prefs-page"] as unknown as { fillPreferences: typeof fillPreferencesFunction };

function init(): void {
  // Nothing to set up: every window is filled afresh.
}

function fillPreferencesWindow(window: Adw.PreferencesWindow): void {
  fillPreferences({ Adw: legacy.gi.Adw, Gtk: legacy.gi.Gtk }, window, ExtensionUtils.getSettings());
}
