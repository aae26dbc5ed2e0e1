import Adw from "gi://Adw";
import Gtk from "gi://Gtk";
import { ExtensionPreferences } from "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js";
import { fillPreferences } from "./shell/prefs-page.js";

// Preferences for GNOME Shell 45 and later; legacy/prefs.ts is the 43–44 twin.

export default class ClanDesktopPreferences extends ExtensionPreferences {
  override fillPreferencesWindow(window: Adw.PreferencesWindow): Promise<void> {
    fillPreferences({ Adw, Gtk }, window, this.getSettings());
    return Promise.resolve();
  }
}
