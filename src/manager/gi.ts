import { ClanError } from "../shared/errors.js";

// node-gtk is an optional dependency (a native module built from source): clan-manager loads it at start and,
// where it is missing or failed to build, says so and that clanctl offers the same actions.

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface ManagerGi {
  GLib: any;
  Gio: any;
  Gtk: any;
  Adw: any;
}

export async function loadManagerGi(): Promise<ManagerGi> {
  let gi: typeof import("node-gtk").default;
  try {
    gi = (await import("node-gtk")).default;
  } catch (error) {
    throw new ClanError(
      "NotFound",
      `node-gtk is not installed or did not build (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run scripts/setup.sh, or use clanctl, which offers the same actions`,
    );
  }
  return {
    GLib: gi.require("GLib", "2.0"),
    Gio: gi.require("Gio", "2.0"),
    Gtk: gi.require("Gtk", "4.0"),
    Adw: gi.require("Adw", "1"),
  };
}
