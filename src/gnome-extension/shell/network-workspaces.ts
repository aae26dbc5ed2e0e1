import type Meta from "gi://Meta";
import type { Lifetime } from "../core/lifetime.js";
import type { WorkspaceMap, WorkspaceSlot } from "../core/workspace-map.js";
import type { Platform } from "./platform.js";

// Each network's GNOME workspace, held by identity. GNOME's dynamic workspaces remove an empty workspace that is
// not the active one, and every later workspace moves down an index, so an index cannot name a network's
// workspace, and a network whose VM shows no window would lose its workspace as soon as the user left it.
//
// Identity: the workspace carries the config name of its slot as a JS property, the way GNOME Shell's own
// WorkspaceTracker marks workspaces (`_keepAliveId`, `_lastRemovedWindow`); GJS keeps a wrapper with such a
// property for as long as the workspace lives. The mark survives disable() (a screen lock disables extensions),
// so after enable() a network finds the workspace it had, wherever GNOME has moved it.
//
// Staying alive: GNOME's WorkspaceTracker counts a workspace with a pending Main.wm.keepWorkspaceAlive() as not
// empty; the extension renews that for every network's workspace before it lapses, for as long as the network
// is configured, and lets it lapse at disable() and when the network leaves the config.

const MARK = "_clanDesktopWorkspace";
type MarkedWorkspace = Meta.Workspace & { [MARK]?: string };

/** How long one keepWorkspaceAlive() holds, and how often it is renewed (well before it lapses). */
const KEEP_ALIVE_MS = 60 * 60 * 1000;
const RENEW_EVERY_S = 20 * 60;

export class NetworkWorkspaces {
  private map: WorkspaceMap | undefined;
  /** Slots whose workspace was made or found since enable(): a workspace that vanishes later is made again only on entry. */
  private readonly placed = new Set<string>();

  constructor(
    private readonly platform: Platform,
    private readonly lifetime: Lifetime,
    /** Called when workspaces were added, removed or reordered: the menu shows each network's current number. */
    private readonly onChanged: () => void,
  ) {}

  start(): void {
    const { GLib, global } = this.platform;
    const manager = global.workspace_manager;
    for (const signal of ["notify::n-workspaces", "workspaces-reordered"]) {
      const id = manager.connect(signal, () => this.onChanged());
      this.lifetime.add(`${signal} handler`, () => manager.disconnect(id));
    }
    const renew = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, RENEW_EVERY_S, () => {
      for (const workspace of this.marked()) this.keepAlive(workspace, KEEP_ALIVE_MS);
      return GLib.SOURCE_CONTINUE;
    });
    this.lifetime.add("keep-alive renewal", () => GLib.source_remove(renew));
    this.lifetime.add("keep-alive of the networks' workspaces", () => {
      for (const workspace of this.marked()) this.release(workspace, false);
    });
  }

  /** Follows a new mapping: gives each new slot its workspace, and lets go of those no network claims now. */
  sync(map: WorkspaceMap): void {
    this.map = map;
    const names = new Set(map.slots.map((slot) => slot.workspace));
    for (const workspace of this.marked()) if (!names.has(workspace[MARK]!)) this.release(workspace, true);
    for (const name of [...this.placed]) if (!names.has(name)) this.placed.delete(name);
    for (const slot of map.slots) {
      if (this.placed.has(slot.workspace)) continue;
      this.placed.add(slot.workspace);
      this.workspaceOf(slot);
    }
  }

  /** The network's workspace, made now when it has none (entering it, or placing its window). */
  workspaceOfNetwork(network: string): Meta.Workspace | undefined {
    const slot = this.map?.slotOfNetwork.get(network);
    return slot && this.workspaceOf(slot);
  }

  /** The network's workspace as it is now, without making one: for the menu. */
  indexOfNetwork(network: string): number | undefined {
    const slot = this.map?.slotOfNetwork.get(network);
    const workspace = slot && this.find(slot.workspace);
    return workspace?.index();
  }

  /** The config workspace name `workspace` belongs to, if it is a network's. */
  slotNameOf(workspace: Meta.Workspace): string | undefined {
    const name = (workspace as MarkedWorkspace)[MARK];
    return name !== undefined && this.map?.slots.some((slot) => slot.workspace === name) ? name : undefined;
  }

  private workspaceOf(slot: WorkspaceSlot): Meta.Workspace {
    const { global } = this.platform;
    const found = this.find(slot.workspace);
    if (found) {
      // Found again after enable(): disable() let its keep-alive lapse.
      this.keepAlive(found, KEEP_ALIVE_MS);
      return found;
    }
    const manager = global.workspace_manager;
    // First at its number, when that workspace is no other network's; otherwise a new one at the end.
    const atNumber = manager.get_workspace_by_index(slot.preferredIndex) as MarkedWorkspace | null;
    const workspace: MarkedWorkspace =
      atNumber && this.slotNameOf(atNumber) === undefined ? atNumber : manager.append_new_workspace(false, global.get_current_time());
    workspace[MARK] = slot.workspace;
    this.keepAlive(workspace, KEEP_ALIVE_MS);
    this.keepEmptyLast(workspace);
    return workspace;
  }

  /**
   * GNOME's dynamic workspaces promise an empty workspace at the end, for whatever the user starts next. A network
   * that just took the last one (often GNOME's empty one) would break that until GNOME next checks its workspaces,
   * which a keep-alive does not trigger: the user going "to the end" would land in the network.
   */
  private keepEmptyLast(workspace: Meta.Workspace): void {
    const { Meta, global } = this.platform;
    const manager = global.workspace_manager;
    if (Meta.prefs_get_dynamic_workspaces() && workspace.index() === manager.get_n_workspaces() - 1) manager.append_new_workspace(false, global.get_current_time());
  }

  private find(name: string): Meta.Workspace | undefined {
    return this.marked().find((workspace) => workspace[MARK] === name);
  }

  private marked(): MarkedWorkspace[] {
    const manager = this.platform.global.workspace_manager;
    const workspaces: MarkedWorkspace[] = [];
    for (let index = 0; index < manager.get_n_workspaces(); index++) {
      const workspace = manager.get_workspace_by_index(index) as MarkedWorkspace | null;
      if (workspace?.[MARK] !== undefined) workspaces.push(workspace);
    }
    return workspaces;
  }

  /** Lets the keep-alive lapse at once; GNOME then removes the workspace if it is empty and not active. */
  private release(workspace: MarkedWorkspace, forget: boolean): void {
    if (forget) delete workspace[MARK];
    this.keepAlive(workspace, 0);
  }

  private keepAlive(workspace: Meta.Workspace, durationMs: number): void {
    // @girs types the argument as the overview's Workspace actor; GNOME Shell's code takes a Meta.Workspace.
    type ShellWorkspace = Parameters<Platform["Main"]["wm"]["keepWorkspaceAlive"]>[0];
    this.platform.Main.wm.keepWorkspaceAlive(workspace as unknown as ShellWorkspace, durationMs);
  }
}
