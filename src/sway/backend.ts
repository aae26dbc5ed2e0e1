import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import { errorMessage } from "../shared/errors.js";
import type { BackendEvents, WindowManagerBackend, WindowPlacement } from "../session/window-manager-backend.js";
import type { WmDialect } from "./command-syntax.js";
import { IpcClient } from "./ipc/client.js";
import type { EventSubscription } from "./ipc/event-subscription.js";
import { createDefaultSocketDiscovery, discoverWindowManager } from "./ipc/socket-discovery.js";
import { walkTree, type TreeNode } from "./ipc/messages/get-tree.js";
import { focusWorkspace } from "./commands.js";
import { placeWindowCommand, refuseFullscreenCommand } from "./placement-commands.js";
import { claimedAncestor, windowPid } from "./window-owner.js";
import { searchForWindowManager } from "./window-manager-search.js";
import { windowManagerSocketAppearances } from "./ipc/socket-watch.js";

// clan-sessiond's backend for sway and i3: workspace focus events in, window placement and decoration out.
// Events arrive on their own subscription connection; commands go over the client's command connection.

class SwayBackend extends EventEmitter<BackendEvents> implements WindowManagerBackend {
  private readonly claims = new Map<number, WindowPlacement>();
  private readonly placed = new Set<number>();

  private constructor(
    readonly kind: WmDialect,
    private readonly client: IpcClient,
    private readonly events: EventSubscription,
    private readonly log: (message: string) => void,
  ) {
    super();
  }

  static async connect(kind: WmDialect, log: (message: string) => void): Promise<SwayBackend> {
    const uid = await sessionOwner();
    const client = await IpcClient.connect({ discover: createDefaultSocketDiscovery({ uid }), socketAppearances: windowManagerSocketAppearances({ uid }) });
    let events: EventSubscription;
    try {
      events = await client.subscribe(["workspace", "window"]);
    } catch (error) {
      // Left open, the command connection would go on reconnecting to a window manager no one uses.
      client.close();
      throw error;
    }
    const backend = new SwayBackend(kind, client, events, log);
    void backend.consumeEvents();
    return backend;
  }

  async focusedWorkspace(): Promise<string | undefined> {
    const workspaces = await this.client.getWorkspaces();
    return workspaces.find((workspace) => workspace.focused)?.name;
  }

  async focusWorkspace(workspace: string): Promise<void> {
    await this.client.runCommand(focusWorkspace(workspace, this.kind));
  }

  async claimWindowsOf(pid: number, placement: WindowPlacement): Promise<void> {
    this.claims.set(pid, placement);
    const tree = await this.client.getTree();
    for (const node of walkTree(tree)) if (isWindow(node)) await this.placeIfClaimed(node);
  }

  releaseWindowsOf(pid: number): void {
    this.claims.delete(pid);
  }

  async close(): Promise<void> {
    this.events.close();
    this.client.close();
  }

  private async consumeEvents(): Promise<void> {
    try {
      for await (const item of this.events) {
        if (item.kind === "workspace" && item.event.change === "focus" && item.event.current?.name) {
          this.emit("workspace-focused", item.event.current.name);
        } else if (item.kind === "window" && item.event.change === "new") {
          await this.placeIfClaimed(item.event.container);
        } else if (item.kind === "window" && item.event.change === "fullscreen_mode") {
          await this.refuseFullscreen(item.event.container);
        } else if (item.kind === "window" && item.event.change === "close") {
          this.placed.delete(item.event.container.id);
        } else if (item.kind === "reconnected") {
          this.log(`reconnected to ${this.kind} at ${item.socketPath}`);
          this.placed.clear();
          this.emit("reconnected");
        } else if (item.kind === "invalid-event") {
          this.log(`${this.kind} sent an event that does not match its schema: ${item.error.message}`);
        }
      }
    } catch (error) {
      this.log(`${this.kind} event stream ended: ${errorMessage(error)}`);
    }
  }

  private async placeIfClaimed(node: TreeNode): Promise<void> {
    if (this.placed.has(node.id) || this.claims.size === 0) return;
    const pid = await windowPid(node, this.kind);
    if (pid === undefined) return;
    const owner = await claimedAncestor(pid, new Set(this.claims.keys()));
    const claim = owner === undefined ? undefined : this.claims.get(owner);
    if (!claim) return;
    this.placed.add(node.id);
    try {
      await this.client.runCommand(placeWindowCommand(node.id, claim, this.kind));
    } catch (error) {
      this.placed.delete(node.id);
      this.log(`cannot place window ${node.id} of pid ${pid}: ${errorMessage(error)}`);
    }
  }

  /**
   * A fullscreen window is drawn without its frame, so without the trusted prefix: a guest could then pass its
   * window off as the host's. A network's window is taken out of fullscreen as soon as it enters it.
   */
  private async refuseFullscreen(node: TreeNode): Promise<void> {
    if (!this.placed.has(node.id) || (node.fullscreen_mode ?? 0) === 0) return;
    try {
      await this.client.runCommand(refuseFullscreenCommand(node.id, this.kind));
      this.log(`refused fullscreen for network window ${node.id}`);
    } catch (error) {
      this.log(`cannot take network window ${node.id} out of fullscreen: ${errorMessage(error)}`);
    }
  }
}

function isWindow(node: TreeNode): boolean {
  return (node.type === "con" || node.type === "floating_con") && (node.pid !== undefined || typeof node.window === "number");
}

/**
 * The session's user owns XDG_RUNTIME_DIR, and a restarted sway puts its new socket there under that uid: look
 * for it even when clan-sessiond runs as another user.
 */
async function sessionOwner(): Promise<number | undefined> {
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  return runtimeDir ? (await stat(runtimeDir).catch(() => undefined))?.uid : undefined;
}

export type WindowManagerChoice = "auto" | WmDialect;

/** Connects to the window manager running now (`auto`: whichever is found); rejects saying where it looked. */
export async function connectWindowManager(choice: WindowManagerChoice, log: (message: string) => void): Promise<WindowManagerBackend> {
  const found = await discoverWindowManager({ uid: await sessionOwner() });
  if ("attempts" in found) throw new Error(`no ${choice === "auto" ? "sway or i3" : choice} IPC socket (${found.attempts.join("; ")})`);
  return SwayBackend.connect(choice === "auto" ? found.kind : choice, log);
}

/**
 * Waits for the window manager — a sway or i3 that starts after clan-sessiond — and connects to it as soon as its
 * IPC socket appears (window-manager-search.ts: watched, not polled). Undefined when `signal` aborts first.
 */
export async function waitForWindowManager(
  choice: WindowManagerChoice,
  log: (message: string) => void,
  signal: AbortSignal,
): Promise<WindowManagerBackend | undefined> {
  return searchForWindowManager({ env: process.env, uid: await sessionOwner(), connect: () => connectWindowManager(choice, log), log, signal });
}
