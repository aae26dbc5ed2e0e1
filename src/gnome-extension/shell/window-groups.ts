import type Meta from "gi://Meta";
import type { Lifetime } from "../core/lifetime.js";
import { networkOfProcess, parentPidFromStat } from "../core/window-owner.js";
import { unclaimedWorkspaceName, type WorkspaceMap } from "../core/workspace-map.js";
import type { NetworkWorkspaces } from "./network-workspaces.js";
import type { Platform } from "./platform.js";

// GNOME's side of the window manager backend: it reports which workspace is active (clan-sessiond then enters
// or leaves networks exactly as it does on sway), switches to a network's workspace for "switch to", and moves
// the windows of a network's host display process (its SPICE viewer, or its waypipe client's children), recognised
// by the pids clan-sessiond publishes (core/window-owner.ts), to the network's workspace.

export interface WindowGroupsDeps {
  workspaceMap(): WorkspaceMap;
  workspaces: NetworkWorkspaces;
  viewerPids(): Readonly<Record<string, number>>;
  reportWorkspace(name: string): void;
}

export class WindowGroups {
  /** Windows of a network that have not drawn yet, with the handlers that wait for their first size. */
  private readonly undrawn = new Map<Meta.Window, number[]>();

  constructor(
    private readonly platform: Platform,
    private readonly lifetime: Lifetime,
    private readonly deps: WindowGroupsDeps,
  ) {}

  start(): void {
    const { global } = this.platform;
    const manager = global.workspace_manager;
    const switched = manager.connect("active-workspace-changed", () => this.reportActive());
    this.lifetime.add("active-workspace-changed handler", () => manager.disconnect(switched));
    const display = global.display;
    const created = display.connect("window-created", (_display: Meta.Display, window: Meta.Window) => this.place(window));
    this.lifetime.add("window-created handler", () => display.disconnect(created));
    this.lifetime.add("handlers on windows not drawn yet", () => {
      for (const window of [...this.undrawn.keys()]) this.stopWaiting(window);
    });
  }

  /** Tells clan-sessiond which workspace is active: at start, after it (re)appears, and on every switch. */
  reportActive(): void {
    this.deps.reportWorkspace(this.activeWorkspaceName());
  }

  /** The name clan-sessiond knows the active workspace by: its network's, or one that belongs to no network. */
  activeWorkspaceName(): string {
    const active = this.platform.global.workspace_manager.get_active_workspace();
    return this.deps.workspaces.slotNameOf(active) ?? unclaimedWorkspaceName(this.deps.workspaceMap(), active.index());
  }

  /** Switches to the network's workspace, making it first when it has none. */
  activate(network: string): void {
    this.deps.workspaces.workspaceOfNetwork(network)?.activate(this.platform.global.get_current_time());
  }

  /** Moves every open host display window to its network's workspace (after ViewerPids or the config changed). */
  placeAll(): void {
    for (const actor of this.platform.global.get_window_actors()) this.place(actor.get_meta_window());
  }

  private place(window: Meta.Window | null): void {
    if (!window) return;
    const network = networkOfProcess(window.get_pid(), this.deps.viewerPids(), (pid) => this.parentOf(pid));
    if (network === undefined || !this.deps.workspaceMap().slotOfNetwork.has(network)) return;
    const frame = window.get_frame_rect();
    if (frame.width === 0 || frame.height === 0) {
      this.placeWhenDrawn(window);
      return;
    }
    const workspace = this.deps.workspaces.workspaceOfNetwork(network);
    if (workspace && window.get_workspace() !== workspace) window.change_workspace(workspace);
  }

  /**
   * GNOME announces a Wayland window before its client has drawn or been sent its first configure; moving it
   * then makes mutter 43 log "surface_state_changed: assertion … failed". The window gets its first size with
   * its first buffer, before the shell shows it: moving it then is as early, without the warning.
   */
  private placeWhenDrawn(window: Meta.Window): void {
    if (this.undrawn.has(window)) return;
    const sized = window.connect("size-changed", () => {
      this.stopWaiting(window);
      this.place(window);
    });
    const unmanaged = window.connect("unmanaged", () => this.stopWaiting(window));
    this.undrawn.set(window, [sized, unmanaged]);
  }

  private stopWaiting(window: Meta.Window): void {
    for (const id of this.undrawn.get(window) ?? []) window.disconnect(id);
    this.undrawn.delete(window);
  }

  /** A synchronous read, but of /proc: the kernel answers from memory, and the shell never waits on a disk. */
  private parentOf(pid: number): number | undefined {
    try {
      const [, stat] = this.platform.GLib.file_get_contents(`/proc/${pid}/stat`);
      return parentPidFromStat(new TextDecoder().decode(stat));
    } catch {
      // The process has exited since the window was made: it is no one's.
      return undefined;
    }
  }
}
