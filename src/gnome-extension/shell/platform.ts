import type Clutter from "gi://Clutter";
import type Gio from "gi://Gio";
import type GLib from "gi://GLib";
import type Meta from "gi://Meta";
import type Shell from "gi://Shell";
import type St from "gi://St";
import type * as Main from "resource:///org/gnome/shell/ui/main.js";
import type * as MessageTray from "resource:///org/gnome/shell/ui/messageTray.js";
import type * as PanelMenu from "resource:///org/gnome/shell/ui/panelMenu.js";
import type * as PopupMenu from "resource:///org/gnome/shell/ui/popupMenu.js";

// The shell modules receive GNOME Shell's libraries from their entry point instead of importing them: GNOME 45+
// loads ES modules (`import St from "gi://St"`), GNOME 43–44 the older `imports.gi.St`, and this keeps one copy
// of the shell code for both. Only types are imported here; TypeScript erases them from the output.

export interface Platform {
  Clutter: typeof Clutter;
  Gio: typeof Gio;
  GLib: typeof GLib;
  Meta: typeof Meta;
  Shell: typeof Shell;
  St: typeof St;
  Main: typeof Main;
  MessageTray: typeof MessageTray;
  PanelMenu: typeof PanelMenu;
  PopupMenu: typeof PopupMenu;
  /** The shell's global object (Shell.Global): workspace manager, display, current time. */
  global: Shell.Global;
  uuid: string;
  log(message: string): void;
}
