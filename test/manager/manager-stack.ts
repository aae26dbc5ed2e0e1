import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { startAccessibilityBus, type AccessibilityBus } from "../helpers/accessibility.js";
import { REPO } from "../helpers/daemons.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { startUserSession, type SessionUser, type UserDaemon, type UserSession, type UserSessionOptions } from "../helpers/user-session.js";
import { connectVirtualPointer, type VirtualPointer } from "../helpers/virtual-pointer.js";
import { managerScreen, type ManagerScreen } from "./manager-screen.js";

// What every clan-manager e2e test runs: headless sway, its virtual pointer, the user's daemons and an
// accessibility bus, and the window opened as the user opens it from a terminal (`clanctl manager`, which runs
// clan-manager in the foreground), read and driven through AT-SPI.

/** How long the idle wtype holds its keyboard: longer than any test. */
const KEYBOARD_HELD_MS = 24 * 60 * 60 * 1000;

export interface ManagerStack {
  sway: HeadlessSway;
  /** The user sway runs as, who owns its runtime directory. */
  owner: SessionUser;
  pointer: VirtualPointer;
  user: UserSession;
  a11y: AccessibilityBus;
  manager: UserDaemon;
  screen: ManagerScreen;
  /** Closes the window, then everything under it; what the test made itself is the test's to remove. */
  stop(): Promise<void>;
}

export interface ManagerStackOptions {
  /** The networks, made once sway's runtime directory (where the user may write) exists. */
  config(sway: HeadlessSway, owner: SessionUser): Promise<ConfigInput> | ConfigInput;
  /** The user session's other options (its config and window-manager environment come from here). */
  session?(sway: HeadlessSway): Omit<UserSessionOptions, "config" | "wmEnv">;
  /** More of the window's own environment (and so of the clanctl it runs), beyond the session's. */
  managerEnv?(sway: HeadlessSway): Record<string, string>;
}

export async function startManagerStack(options: ManagerStackOptions): Promise<ManagerStack> {
  const sway = await startHeadlessSway();
  const started: { pointer?: VirtualPointer; user?: UserSession; a11y?: AccessibilityBus; manager?: UserDaemon } = {};
  const stop = async () => {
    await started.manager?.stop();
    await started.a11y?.stop();
    started.pointer?.close();
    await started.user?.stop();
    await sway.stop();
  };
  try {
    // Connected before the window opens and kept: the seat gains its pointer with it, and a client binds the
    // pointer only when told so, after which the events of a pointer connected just before a click would be lost.
    const pointer = (started.pointer = await connectVirtualPointer(sway.waylandDisplay));
    // A keyboard on the seat for the stack's life (an idle wtype; sway.stop() ends it): the seat has no other, and
    // each wtype run brings its own and takes it away, after which the window is inactive and GTK neither draws its
    // focus ring nor reports the focused widget over AT-SPI.
    sway.spawnClient("wtype", ["-s", String(KEYBOARD_HELD_MS)]);
    const { uid, gid } = await stat(sway.runtimeDir);
    const owner = { uid, gid };
    const user = (started.user = await startUserSession(owner, {
      ...options.session?.(sway),
      config: await options.config(sway, owner),
      wmEnv: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
    }));
    const a11y = (started.a11y = await startAccessibilityBus(owner, user.env));
    const manager = (started.manager = user.spawn("node", [join(REPO, "bin", "clanctl.js"), "manager"], { GDK_BACKEND: "wayland", ...options.managerEnv?.(sway) }));
    const screen = managerScreen(a11y, sway, pointer, () => manager);
    return { sway, owner, pointer, user, a11y, manager, screen, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The config.json entry New network writes for `name` (the source is the flake it made in the networks directory). */
export function newNetworkEntry(networksDir: string, name: string, entry: { label: string; workspaces: string[]; colour: string }): unknown {
  return { ...entry, source: { flake: `path:${join(networksDir, name)}`, attribute: `packages.x86_64-linux.${name}` } };
}
