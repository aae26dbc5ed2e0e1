import type { ResultPromise } from "execa";
import type { WmDialect } from "../../src/sway/command-syntax.js";
import type { EventSubscription, SubscriptionItem } from "../../src/sway/ipc/event-subscription.js";
import type { TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import type { SocketDiscovery } from "../../src/sway/ipc/socket-discovery.js";
import { startI3UnderXvfb, type I3RestartMode } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startHeadlessSway } from "../helpers/sway.js";

// One face for the two real WMs, so that each end-to-end scenario is written once and run on both.

export type RestartMode = I3RestartMode;

export interface WmUnderTest {
  readonly dialect: WmDialect;
  readonly socketPath: string;
  /** A discovery that finds the WM again after restart(). */
  readonly discover: SocketDiscovery;
  /** Opens a real window; `isIt` recognises its container in events and the tree. */
  openWindow(): { process: ResultPromise; isIt(container: TreeNode): boolean };
  /** The WM's process id (the same across i3's in-place restart). */
  readonly pid: number;
  /** One of its kind's restartModes; resolves when the new WM answers. */
  restart(mode: RestartMode): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export interface WmKind {
  readonly name: WmDialect;
  /** Non-empty when a binary is missing: the suffix that makes the skip visible in the test title. */
  readonly skip: string;
  /** The program openWindow() runs, which a window test needs too. */
  readonly windowProgram: string;
  /** sway: a new process on a new socket. i3: its own in-place restart, or a new process on the same socket. */
  readonly restartModes: readonly RestartMode[];
  start(): Promise<WmUnderTest>;
}

export const SWAY: WmKind = {
  name: "sway",
  skip: skipReason("sway", "setpriv"),
  // A GTK 3 program from virt-viewer (installed by scripts/setup.sh), run as a native Wayland client.
  windowProgram: "remote-viewer",
  restartModes: ["new-process"],
  async start() {
    const sway = await startHeadlessSway();
    return {
      dialect: "sway",
      get socketPath() {
        return sway.socketPath;
      },
      discover: () => sway.discoverSocket(),
      openWindow() {
        const process = sway.spawnClient("remote-viewer");
        return { process, isIt: (container) => container.pid !== undefined && container.pid === process.pid };
      },
      get pid() {
        return sway.pid;
      },
      // sway has no in-place restart: restartModes offers only "new-process".
      restart: () => sway.restart(),
      stop: () => sway.stop(),
      log: () => sway.log(),
    };
  },
};

export const I3: WmKind = {
  name: "i3",
  skip: skipReason("i3", "Xvfb", "xmessage"),
  windowProgram: "xmessage",
  restartModes: ["in-place", "new-process"],
  async start() {
    const i3 = await startI3UnderXvfb();
    let windowCount = 0;
    return {
      dialect: "i3",
      socketPath: i3.socketPath,
      discover: async () => i3.socketPath,
      openWindow() {
        // xmessage sets no _NET_WM_PID: a unique instance name is how this test recognises its window.
        const instance = `clan-test-${process.pid}-${++windowCount}`;
        const child = i3.spawnClient("xmessage", ["-name", instance, "clan-desktop test window"]);
        return { process: child, isIt: (container) => container.window_properties?.instance === instance };
      },
      get pid() {
        return i3.pid;
      },
      restart: (mode) => i3.restart(mode),
      stop: () => i3.stop(),
      log: () => i3.log(),
    };
  },
};

export const WM_KINDS = [SWAY, I3] as const;

export function canOpenWindows(kind: WmKind): boolean {
  return hasBinary(kind.windowProgram);
}

/** Reads items until one satisfies `predicate`; throws after `timeoutMs`, listing what did arrive. */
export async function nextMatching<T extends SubscriptionItem>(
  subscription: EventSubscription,
  predicate: (item: SubscriptionItem) => item is T,
  timeoutMs = 5000,
): Promise<T> {
  return (await collectUntil(subscription, predicate, timeoutMs)).match;
}

/** Like nextMatching, and also returns the items read before the match. */
export async function collectUntil<T extends SubscriptionItem>(
  subscription: EventSubscription,
  predicate: (item: SubscriptionItem) => item is T,
  timeoutMs = 5000,
): Promise<{ before: SubscriptionItem[]; match: T }> {
  const deadline = Date.now() + timeoutMs;
  const before: SubscriptionItem[] = [];
  const failure = (cause?: unknown): Error =>
    new Error(`no matching event within ${timeoutMs} ms; saw: ${before.map(describeItem).join(", ") || "nothing"}`, { cause });
  for (;;) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw failure();
    const item = await subscription.next(remainingMs).catch((error: unknown) => {
      throw failure(error);
    });
    if (predicate(item)) return { before, match: item };
    before.push(item);
  }
}

function describeItem(item: SubscriptionItem): string {
  return item.kind === "workspace" || item.kind === "window" || item.kind === "shutdown" ? `${item.kind}:${item.event.change}` : item.kind;
}
