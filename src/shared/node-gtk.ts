import { ClanError } from "./errors.js";

// node-gtk is an optional dependency (a native module built from source): the GTK programs (clan-viewer,
// clan-manager) load it at start and, where it is missing or failed to build, say so and what to use instead
// rather than crash with a module error.

export type NodeGtk = typeof import("node-gtk").default;

/** node-gtk, or a NotFound error that ends with `instead` (what the user can do without it). */
export async function loadNodeGtk(instead: string): Promise<NodeGtk> {
  try {
    return (await import("node-gtk")).default;
  } catch (error) {
    throw new ClanError("NotFound", `node-gtk is not installed or did not build (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run scripts/setup.sh, or ${instead}`);
  }
}
