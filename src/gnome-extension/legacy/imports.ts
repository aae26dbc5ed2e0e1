import type Adw from "gi://Adw";
import type Clutter from "gi://Clutter";
import type Gio from "gi://Gio";
import type GLib from "gi://GLib";
import type Gtk from "gi://Gtk";
import type Meta from "gi://Meta";
import type Shell from "gi://Shell";
import type St from "gi://St";
import type * as Main from "resource:///org/gnome/shell/ui/main.js";
import type * as MessageTray from "resource:///org/gnome/shell/ui/messageTray.js";
import type * as PanelMenu from "resource:///org/gnome/shell/ui/panelMenu.js";
import type * as PopupMenu from "resource:///org/gnome/shell/ui/popupMenu.js";

// The shape of GNOME Shell 43–44's `imports` object as the legacy entry points use it. @girs types only the
// GJS part of `imports`; the shell's own modules (imports.ui.*, imports.misc.*) are described here, using the
// 45+ types of the same modules, which kept their names and the members used here.

export interface CurrentExtension {
  uuid: string;
  /** The extension's own modules: Me.imports.shell.controller is shell/controller.js. */
  imports: Record<string, Record<string, Record<string, unknown>>>;
}

export interface LegacyImports {
  gi: {
    Adw: typeof Adw;
    Clutter: typeof Clutter;
    Gio: typeof Gio;
    GLib: typeof GLib;
    Gtk: typeof Gtk;
    Meta: typeof Meta;
    Shell: typeof Shell;
    St: typeof St;
  };
  ui: { main: typeof Main; messageTray: typeof MessageTray; panelMenu: typeof PanelMenu; popupMenu: typeof PopupMenu };
  misc: {
    extensionUtils: {
      getCurrentExtension(): CurrentExtension;
      getSettings(schema?: string): Gio.Settings;
    };
  };
}
