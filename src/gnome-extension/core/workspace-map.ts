import type { NetworkStatus } from "./network-status.js";

// GNOME's workspaces have no names, and with its default dynamic workspaces their numbers shift: GNOME removes
// an empty workspace before the active one, and every later workspace moves down. So the extension holds each
// network's GNOME workspace by identity (shell/network-workspaces.ts); this module decides which config
// workspace names get one. A name "N" or "N:anything" (1 ≤ N ≤ 36) gets a GNOME workspace of its own, first
// placed at index N-1 — the way sway's numbers read, and exact with a fixed number of workspaces. A name
// without a leading number has none. When two names share a number, the network that sorts first keeps it and
// the menu names the conflict.

/** GNOME Shell allows at most 36 workspaces (meta/prefs.c MAX_N_WORKSPACES). */
const MAX_GNOME_WORKSPACES = 36;

export function gnomeIndexOfWorkspaceName(name: string): number | undefined {
  const match = /^([0-9]{1,2})(?::|$)/.exec(name);
  if (!match) return undefined;
  const number = Number(match[1]);
  return number >= 1 && number <= MAX_GNOME_WORKSPACES ? number - 1 : undefined;
}

/** A config workspace that has a GNOME workspace. */
export interface WorkspaceSlot {
  /** The config's workspace name, exactly as clan-sessiond knows it. */
  workspace: string;
  network: string;
  /** Where a new GNOME workspace for it goes first; once made, it is followed wherever GNOME moves it. */
  preferredIndex: number;
}

export interface WorkspaceMap {
  /** Ordered by preferred index. */
  slots: WorkspaceSlot[];
  /** Each network's first slot: where "switch to" goes and its windows are put. */
  slotOfNetwork: ReadonlyMap<string, WorkspaceSlot>;
  /** Every workspace name any network claims, numbered or not. */
  claimedNames: ReadonlySet<string>;
  /** Human-readable problems for the menu: unnumbered names and names that collide on one number. */
  problems: string[];
}

export function buildWorkspaceMap(networks: readonly Pick<NetworkStatus, "name" | "workspaces">[]): WorkspaceMap {
  const byIndex = new Map<number, WorkspaceSlot>();
  const slotOfNetwork = new Map<string, WorkspaceSlot>();
  const problems: string[] = [];
  const sorted = [...networks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const network of sorted) {
    for (const workspace of network.workspaces) {
      const index = gnomeIndexOfWorkspaceName(workspace);
      if (index === undefined) {
        problems.push(`${network.name}: workspace ${JSON.stringify(workspace.slice(0, 40))} has no number, so no GNOME workspace`);
        continue;
      }
      const owner = byIndex.get(index);
      if (owner) {
        problems.push(`${network.name}: workspace number ${index + 1} already belongs to ${owner.network} (${JSON.stringify(owner.workspace.slice(0, 40))})`);
        continue;
      }
      const slot = { workspace, network: network.name, preferredIndex: index };
      byIndex.set(index, slot);
      if (!slotOfNetwork.has(network.name)) slotOfNetwork.set(network.name, slot);
    }
  }
  const slots = [...byIndex.values()].sort((a, b) => a.preferredIndex - b.preferredIndex);
  const claimedNames = new Set(networks.flatMap((network) => network.workspaces));
  return { slots, slotOfNetwork, claimedNames, problems };
}

/**
 * The name WorkspaceFocused is called with for a GNOME workspace no network holds (at `index`): its number,
 * unless a network's config uses that very name — a number says nothing about identity any more, so the name
 * must belong to no network, or clan-sessiond would enter that network.
 */
export function unclaimedWorkspaceName(map: WorkspaceMap, index: number): string {
  let name = String(index + 1);
  while (map.claimedNames.has(name)) name = `${name}'`;
  return name;
}
