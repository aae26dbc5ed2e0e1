import type Meta from "gi://Meta";
import type { Lifetime } from "../core/lifetime.js";
import { workspaceIndexForPid, workspaceNameForIndex, type WorkspaceMap } from "../core/workspace-map.js";
import type { Platform } from "./platform.js";

// GNOME's side of the window manager backend: it reports which workspace is active (clan-sessiond then enters
// or leaves networks exactly as it does on sway), switches workspaces for "switch to network", and moves the
// windows of a network's viewer, recognised by the pid clan-sessiond publishes, to the network's workspace.

export interface WindowGroupsDeps {
  workspaceMap(): WorkspaceMap;
  viewerPids(): Readonly<Record<string, number>>;
  reportWorkspace(name: string): void;
}

export class WindowGroups {
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

  /** Moves every open viewer window to its network's workspace (after ViewerPids or the config changed). */
  placeAll(): void {
    for (const actor of this.platform.global.get_window_actors()) this.place(actor.get_meta_window());
  }

  private place(window: Meta.Window | null): void {
    if (!window) return;
    const index = workspaceIndexForPid(this.deps.workspaceMap(), this.deps.viewerPids(), window.get_pid());
    if (index === undefined) return;
    const manager = this.platform.global.workspace_manager;
    while (manager.get_n_workspaces() <= index) manager.append_new_workspace(false, this.platform.global.get_current_time());
    if (window.get_workspace()?.index() !== index) window.change_workspace_by_index(index, false);
  }
}
