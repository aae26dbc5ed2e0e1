import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { findAll, outline, texts, type AccessibilityBus, type AccessibleNode, type Found } from "../helpers/accessibility.js";
import { waitUntil } from "../helpers/daemons.js";
import type { HeadlessSway } from "../helpers/sway.js";
import type { UserDaemon } from "../helpers/user-session.js";
import type { VirtualPointer } from "../helpers/virtual-pointer.js";

// clan-manager's window as its e2e tests see and drive it: its AT-SPI tree, waits for what it shows, clicks with
// sway's virtual pointer where AT-SPI says a widget is, and keys pressed on sway's keyboard (wtype) as a keyboard
// user moves the focus and activates what has it.

export const APP = "clan-manager";
/** Its GApplication id, which is also its Wayland app_id. */
export const APPLICATION_ID = "org.clan.Desktop.Manager";
/** test/helpers/sway.ts's output size. */
const OUTPUT_SIZE = { width: 1280, height: 800 };
/** The window's header bar, which the detail scrolls under. */
const HEADER_HEIGHT = 80;
/** How long wtype waits after giving the seat its keymap before its first key. */
const KEYMAP_SETTLE_MS = 300;
/** How long a Tab may take to move the focus that AT-SPI reports. */
const FOCUS_MOVE_MS = 3000;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface SwayNode {
  app_id?: string;
  rect: Rect;
  window_rect: Rect;
  nodes?: SwayNode[];
  floating_nodes?: SwayNode[];
}

/** The manager's windows in sway's tree. */
export function managerWindows(node: SwayNode): SwayNode[] {
  const here = node.app_id === APPLICATION_ID ? [node] : [];
  return [...here, ...[...(node.nodes ?? []), ...(node.floating_nodes ?? [])].flatMap(managerWindows)];
}

export const isListItem = (name: string) => (node: AccessibleNode) => node.role === "list item" && node.name === name;
export const isButton = (name: string) => (node: AccessibleNode) => node.role === "push button" && node.name === name;

export interface ManagerScreen {
  tree(): Promise<AccessibleNode>;
  /** Waits until `probe` finds what it looks for in the window's current tree. */
  waitFor<T>(what: string, probe: (root: AccessibleNode) => Promise<T | undefined> | T | undefined, timeoutMs?: number): Promise<T>;
  /** The label texts of the one list item named `row`; undefined unless there is exactly one. */
  rowTexts(root: AccessibleNode, row: string): string[] | undefined;
  /** A left click in the middle of the node: where AT-SPI says it is in its window, the window where sway put it. */
  clickOn(found: Found): Promise<void>;
  /** Presses keys on sway's keyboard: wtype's arguments (`-k Tab`, `-M shift -k Tab -m shift`, `-k space`). */
  press(...keys: string[]): Promise<void>;
  /**
   * Presses Tab until the node `target` finds is in the window's view: the focus moves down the page and the
   * ScrolledWindow follows it, as a keyboard user brings the form into view. The focus must already be in the
   * detail: Tab in the networks list selects the next network.
   */
  tabIntoView(what: string, target: (root: AccessibleNode) => Found | undefined, maxPresses?: number): Promise<Found>;
  /** Presses Tab until AT-SPI says that the node `target` finds has the keyboard focus. */
  tabUntilFocused(what: string, target: (root: AccessibleNode) => Found | undefined, maxPresses?: number): Promise<Found>;
  /**
   * Turns the wheel over the node's column until the node `target` finds is in the window's view, as a pointer
   * user scrolls the detail; the keyboard focus stays where it is.
   */
  scrollIntoView(what: string, target: (root: AccessibleNode) => Found | undefined, maxTurns?: number): Promise<Found>;
}

export function managerScreen(a11y: AccessibilityBus, sway: HeadlessSway, pointer: VirtualPointer, manager: () => UserDaemon): ManagerScreen {
  const tree = async () => {
    const process = manager();
    if (process.process.exitCode !== null) throw new Error(`clan-manager exited (${process.process.exitCode}):\n${process.output()}`);
    return a11y.tree(APP);
  };
  const waitFor: ManagerScreen["waitFor"] = async (what, probe, timeoutMs = 30_000) => {
    let last: AccessibleNode | undefined;
    const deadline = Date.now() + timeoutMs;
    try {
      return await waitUntil(async () => {
        try {
          // A read that does not come back (a window that stopped answering AT-SPI) ends the wait at its bound.
          last = await beforeDeadline(tree(), deadline, `timed out after ${timeoutMs} ms waiting for ${what} (reading the window's AT-SPI tree)`);
        } catch (error) {
          // Until GTK has registered the window with the accessibility bus, when a row went away mid-read, or when
          // a read took longer than D-Bus waits for a reply (a loaded machine): the wait's own bound decides.
          if (/no application|no longer exists|Did not receive a reply/.test((error as Error).message)) return undefined;
          throw error;
        }
        return probe(last);
      }, what, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe window shows:\n${last ? outline(last) : "nothing"}\nclan-manager said:\n${manager().output()}`);
    }
  };
  const swayWindow = async () => {
    const window = managerWindows(JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-t", "get_tree", "-r"])).stdout))[0];
    if (!window) throw new Error("sway has no clan-manager window");
    return window;
  };
  const press = async (...keys: string[]) => {
    // Each wtype run gives sway's seat a new keymap; keys sent before the window has taken it are lost.
    await execa("wtype", ["-s", String(KEYMAP_SETTLE_MS), ...keys], { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
  };
  return {
    tree,
    waitFor,
    press,
    async tabIntoView(what, target, maxPresses = 200) {
      const seen: number[] = [];
      for (let pressed = 0; pressed <= maxPresses; ) {
        const found = await waitFor(what, target);
        const box = await a11y.extents(APP, found);
        const window = await swayWindow();
        // Below the detail's header bar and above the window's bottom edge: where the ScrolledWindow shows it.
        if (box.y >= HEADER_HEIGHT && box.y + box.height <= window.window_rect.height) return found;
        seen.push(box.y);
        // Far below the view, five presses at a time: a press is one widget, and the page has a hundred.
        const presses = box.y > 2 * window.window_rect.height ? 5 : 1;
        await press(...Array.from({ length: presses }, () => ["-k", "Tab"]).flat());
        pressed += presses;
      }
      throw new Error(`${what} was still out of view after ${maxPresses} presses of Tab; it was at y = ${seen.join(", ")}`);
    },
    async tabUntilFocused(what, target, maxPresses = 200) {
      const focusedAt = (root: AccessibleNode) => findAll(root, (node) => node.states.includes("focused"))[0]?.path.join("/");
      for (let pressed = 0; pressed <= maxPresses; pressed++) {
        const root = await tree();
        const found = target(root);
        if (found?.node.states.includes("focused")) return found;
        const before = focusedAt(root);
        await press("-k", "Tab");
        // Read on once the focus has left where it was, so a read of the tree from before the press does not let
        // the next press skip the target; a widget that does not report the focus (an entry's text) ends the wait.
        const deadline = Date.now() + FOCUS_MOVE_MS;
        while (Date.now() < deadline && focusedAt(await tree()) === before) await sleep(50);
      }
      throw new Error(`${what} did not have the keyboard focus after ${maxPresses} presses of Tab`);
    },
    async scrollIntoView(what, target, maxTurns = 100) {
      const seen: number[] = [];
      for (let turns = 0; turns <= maxTurns; turns++) {
        const found = await waitFor(what, target);
        const box = await a11y.extents(APP, found);
        const window = await swayWindow();
        if (box.y >= HEADER_HEIGHT && box.y + box.height <= window.window_rect.height) return found;
        seen.push(box.y);
        // Over the node's column, halfway down the window: the ScrolledWindow under the pointer takes the wheel.
        const x = window.rect.x + window.window_rect.x + box.x + Math.round(box.width / 2);
        const y = window.rect.y + window.window_rect.y + Math.round(window.window_rect.height / 2);
        await pointer.moveTo(x, y, OUTPUT_SIZE.width, OUTPUT_SIZE.height);
        const notches = box.y > 2 * window.window_rect.height ? 5 : 1;
        await pointer.scroll(box.y < HEADER_HEIGHT ? -notches : notches);
      }
      throw new Error(`${what} was still out of view after ${maxTurns} turns of the wheel; it was at y = ${seen.join(", ")}`);
    },
    rowTexts(root, row) {
      const found = findAll(root, isListItem(row));
      return found.length === 1 ? texts(found[0]!.node) : undefined;
    },
    async clickOn(found) {
      const box = await a11y.extents(APP, found);
      const window = await swayWindow();
      const x = window.rect.x + window.window_rect.x + box.x + Math.round(box.width / 2);
      const y = window.rect.y + window.window_rect.y + box.y + Math.round(box.height / 2);
      await pointer.moveTo(x, y, OUTPUT_SIZE.width, OUTPUT_SIZE.height);
      await pointer.click();
    },
  };
}

/** `promise`, or an error with `message` once `deadline` (a Date.now() time) has passed. */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
