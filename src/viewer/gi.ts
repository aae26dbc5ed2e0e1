import { loadNodeGtk } from "../shared/node-gtk.js";

// The GObject namespaces the viewer uses (node-gtk: src/shared/node-gtk.ts).

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface Gi {
  GLib: any;
  GObject: any;
  Gio: any;
  Gdk: any;
  Gtk: any;
  Graphene: any;
  /** node-gtk's own cairo binding. */
  cairo: any;
}

export async function loadGi(): Promise<Gi> {
  const gi = await loadNodeGtk("use the spice display");
  return {
    GLib: gi.require("GLib", "2.0"),
    GObject: gi.require("GObject", "2.0"),
    Gio: gi.require("Gio", "2.0"),
    Gdk: gi.require("Gdk", "4.0"),
    Gtk: gi.require("Gtk", "4.0"),
    Graphene: gi.require("Graphene", "1.0"),
    cairo: gi.require("cairo"),
  };
}
