import type Adw from "gi://Adw";
import type Gio from "gi://Gio";
import type Gtk from "gi://Gtk";
import { KEYBINDINGS } from "../core/actions.js";
import { parseAcceleratorList } from "../core/accelerators.js";

// The preferences window (libadwaita): the two keybindings and the indicator's options. It edits the
// extension's GSettings; the running extension reacts to the changes. Only libadwaita 1.2 widgets are used,
// because Debian 12's GNOME 43 ships that version.

export interface PrefsPlatform {
  Adw: typeof Adw;
  Gtk: typeof Gtk;
}

const KEYBINDING_TITLES: Record<string, string> = {
  "rebuild-focused-network": "Rebuild the focused network",
  "rollback-focused-network": "Roll back the focused network",
};

export function fillPreferences(platform: PrefsPlatform, window: Adw.PreferencesWindow, settings: Gio.Settings): void {
  const { Adw } = platform;
  const page = new Adw.PreferencesPage({ title: "clan-desktop", icon_name: "network-vpn-symbolic" });

  const keys = new Adw.PreferencesGroup({
    title: "Keyboard shortcuts",
    // Adw reads descriptions as Pango markup: the accelerator's angle brackets must be escaped.
    description: "GTK accelerators such as &lt;Super&gt;&lt;Shift&gt;r; several separated by commas; empty for none.",
  });
  for (const { key } of KEYBINDINGS) keys.add(keybindingRow(platform, settings, key));
  page.add(keys);

  const indicator = new Adw.PreferencesGroup({ title: "Top panel" });
  indicator.add(switchRow(platform, settings, "show-running-count", "Show running networks beside the icon", "“2/3”: two of three networks' VMs are running"));
  indicator.add(switchRow(platform, settings, "notify-on-failure", "Notify on failures", "A VM, build or backup failed, or the config was rejected"));
  page.add(indicator);

  window.add(page);
  // Keep the settings alive as long as the window: the rows' bindings hold only weak references.
  (window as unknown as { _clanSettings: Gio.Settings })._clanSettings = settings;
}

function switchRow(platform: PrefsPlatform, settings: Gio.Settings, key: string, title: string, subtitle: string): Adw.ActionRow {
  const { Adw, Gtk } = platform;
  const row = new Adw.ActionRow({ title, subtitle });
  const toggle = new Gtk.Switch({ valign: Gtk.Align.CENTER });
  settings.bind(key, toggle, "active", 0 /* Gio.SettingsBindFlags.DEFAULT */);
  row.add_suffix(toggle);
  row.set_activatable_widget(toggle);
  return row;
}

function keybindingRow(platform: PrefsPlatform, settings: Gio.Settings, key: string): Adw.EntryRow {
  const { Adw, Gtk } = platform;
  const row = new Adw.EntryRow({ title: KEYBINDING_TITLES[key] ?? key, show_apply_button: true });
  row.text = settings.get_strv(key).join(", ");
  row.connect("apply", () => {
    const parsed = parseAcceleratorList(row.text, (accelerator) => Gtk.accelerator_parse(accelerator)[0]);
    if ("error" in parsed) {
      row.add_css_class("error");
      row.tooltip_text = parsed.error;
      return;
    }
    row.remove_css_class("error");
    row.tooltip_text = "";
    settings.set_strv(key, parsed.accelerators);
  });
  return row;
}
