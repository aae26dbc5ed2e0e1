import Clutter from "gi://Clutter";
import Gio from "gi://Gio";
import GLib from "gi://GLib";
import Meta from "gi://Meta";
import Shell from "gi://Shell";
import St from "gi://St";
import { Extension } from "resource:///org/gnome/shell/extensions/extension.js";
import * as Main from "resource:///org/gnome/shell/ui/main.js";
import * as MessageTray from "resource:///org/gnome/shell/ui/messageTray.js";
import * as PanelMenu from "resource:///org/gnome/shell/ui/panelMenu.js";
import * as PopupMenu from "resource:///org/gnome/shell/ui/popupMenu.js";
import { ClanDesktop } from "./shell/controller.js";

// Entry point for GNOME Shell 45 and later (ES modules). GNOME 43–44 load legacy/extension.ts instead; both hand
// the same shell code its libraries (see shell/platform.ts).

export default class ClanDesktopExtension extends Extension {
  private instance: ClanDesktop | null = null;

  override enable(): void {
    this.instance = new ClanDesktop(
      {
      Clutter,
      Gio,
      GLib,
      Meta,
      Shell,
      St,
      Main,
      MessageTray,
      PanelMenu,
      PopupMenu,
      global,
      uuid: this.uuid,
      log: (message) => console.log(`clan-desktop: ${message}`),
      },
      this.getSettings(),
    );
  }

  override disable(): void {
    this.instance?.destroy();
    this.instance = null;
  }
}
