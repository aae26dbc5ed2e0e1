import type { ClanDesktop as ClanDesktopClass } from "../shell/controller.js";
import type { LegacyImports } from "./imports.js";

// Entry point for GNOME Shell 43–44, which load extensions in the older format: libraries from `imports.*`, the
// extension's own modules from `Me.imports`, and a global function init() that returns an object with
// enable() and disable(). The shell code is the same as in the GNOME 45+ build (see shell/platform.ts).

const legacy = imports as unknown as LegacyImports;
const ExtensionUtils = legacy.misc.extensionUtils;
const Me = ExtensionUtils.getCurrentExtension();
const { ClanDesktop } = Me.imports.shell!.controller as unknown as { ClanDesktop: typeof ClanDesktopClass };

class LegacyExtension {
  private instance: ClanDesktopClass | null = null;

  enable(): void {
    const { Clutter, Gio, GLib, Meta, Shell, St } = legacy.gi;
    this.instance = new ClanDesktop(
      {
      Clutter,
      Gio,
      GLib,
      Meta,
      Shell,
      St,
      Main: legacy.ui.main,
      MessageTray: legacy.ui.messageTray,
      PanelMenu: legacy.ui.panelMenu,
      PopupMenu: legacy.ui.popupMenu,
      global,
      uuid: Me.uuid,
      log: (message) => console.log(`clan-desktop: ${message}`),
      },
      ExtensionUtils.getSettings(),
    );
  }

  disable(): void {
    this.instance?.destroy();
    this.instance = null;
  }
}

/** Called once when GNOME Shell loads the extension; enable() and disable() may then alternate many times. */
function init(): LegacyExtension {
  return new LegacyExtension();
}
