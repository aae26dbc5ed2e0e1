import { loadNodeGtk } from "../shared/node-gtk.js";

// The GObject namespaces clan-manager uses (node-gtk: src/shared/node-gtk.ts).

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface ManagerGi {
  GLib: any;
  Gio: any;
  Gtk: any;
  Adw: any;
  Gdk: any;
  Pango: any;
}

export async function loadManagerGi(): Promise<ManagerGi> {
  const gi = await loadNodeGtk("use clanctl, which offers the same actions");
  return {
    GLib: gi.require("GLib", "2.0"),
    Gio: gi.require("Gio", "2.0"),
    Gtk: gi.require("Gtk", "4.0"),
    Adw: gi.require("Adw", "1"),
    Gdk: gi.require("Gdk", "4.0"),
    Pango: gi.require("Pango", "1.0"),
  };
}
