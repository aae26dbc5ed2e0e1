import type Meta from "gi://Meta";
import type { Lifetime } from "../core/lifetime.js";
import { networkOfProcess, parentPidFromStat } from "../core/window-owner.js";
import { workspaceNameForIndex, type WorkspaceMap } from "../core/workspace-map.js";
import type { Platform } from "./platform.js";

// GNOME's side of the window manager backend: it reports which workspace is active (clan-sessiond then enters
// or leaves networks exactly as it does on sway), switches workspaces for "switch to network", and moves the
// windows of a network's host display process (its SPICE viewer, or its waypipe client's children), recognised
// by the pids clan-sessiond publishes (core/window-owner.ts), to the network's workspace.

export interface WindowGroupsDeps {
  workspaceMap(): WorkspaceMap;
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
    const index = this.platform.global.workspace_manager.get_active_workspace_index();
    this.deps.reportWorkspace(workspaceNameForIndex(this.deps.workspaceMap(), index));
  }

  /** Switches to GNOME workspace `index`, adding workspaces when the dynamic workspaces have fewer. */
  activate(index: number): void {
    const { global } = this.platform;
    const manager = global.workspace_manager;
    while (manager.get_n_workspaces() <= index) manager.append_new_workspace(false, global.get_current_time());
    manager.get_workspace_by_index(index)?.activate(global.get_current_time());
  }

  /** Moves every open host display window to its network's workspace (after ViewerPids or the config changed). */
  placeAll(): void {
    for (const actor of this.platform.global.get_window_actors()) this.place(actor.get_meta_window());
  }

  private place(window: Meta.Window | null): void {
    if (!window) return;
    const network = networkOfProcess(window.get_pid(), this.deps.viewerPids(), (pid) => this.parentOf(pid));
    const index = network === undefined ? undefined : this.deps.workspaceMap().indexOfNetwork.get(network);
    if (index === undefined) return;
    const frame = window.get_frame_rect();
    if (frame.width === 0 || frame.height === 0) {
      this.placeWhenDrawn(window);
      return;
    }
    const manager = this.platform.global.workspace_manager;
    while (manager.get_n_workspaces() <= index) manager.append_new_workspace(false, this.platform.global.get_current_time());
    if (window.get_workspace()?.index() !== index) window.change_workspace_by_index(index, false);
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
