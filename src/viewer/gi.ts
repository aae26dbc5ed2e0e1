import { ClanError } from "../shared/errors.js";

// node-gtk is an optional dependency (a native module built from source): the viewer loads it at start and, where
// it is missing or failed to build, says so instead of crashing with a module error.

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface Gi {
  GLib: any;
  Gio: any;
  Gdk: any;
  Gtk: any;
  Graphene: any;
}

export async function loadGi(): Promise<Gi> {
  let gi: typeof import("node-gtk").default;
  try {
    gi = (await import("node-gtk")).default;
  } catch (error) {
    throw new ClanError("NotFound", `node-gtk is not installed or did not build (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run scripts/setup.sh, or use the spice display`);
  }
  return {
    GLib: gi.require("GLib", "2.0"),
    Gio: gi.require("Gio", "2.0"),
    Gdk: gi.require("Gdk", "4.0"),
    Gtk: gi.require("Gtk", "4.0"),
    Graphene: gi.require("Graphene", "1.0"),
  };
}
