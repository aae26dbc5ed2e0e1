import type { NetworkStatus } from "./network-status.js";

// GNOME numbers its workspaces from 0 and has no names; the config names sway/i3 workspaces, such as "2:family".
// The mapping, documented in docs/gnome.md: a name "N" or "N:anything" (N ≥ 1) is GNOME workspace index N-1, the
// way sway's workspace numbers read. A name without a leading number has no GNOME workspace. When two names land
// on one index, the network that sorts first keeps it and the menu names the conflict. A GNOME workspace that no
// network claims is reported to clan-sessiond as the bare number "N", which then belongs to no network.

/** GNOME Shell allows at most 36 workspaces (meta/prefs.c MAX_N_WORKSPACES). */
const MAX_GNOME_WORKSPACES = 36;

export function gnomeIndexOfWorkspaceName(name: string): number | undefined {
  const match = /^([0-9]{1,2})(?::|$)/.exec(name);
  if (!match) return undefined;
  const number = Number(match[1]);
  return number >= 1 && number <= MAX_GNOME_WORKSPACES ? number - 1 : undefined;
}

export interface MappedWorkspace {
  /** The config's workspace name, exactly as clan-sessiond knows it. */
  workspace: string;
  network: string;
}

export interface WorkspaceMap {
  byIndex: ReadonlyMap<number, MappedWorkspace>;
  /** The first GNOME workspace of each network that has one: where "switch to" goes. */
  indexOfNetwork: ReadonlyMap<string, number>;
  /** Human-readable problems for the menu: unnumbered names and names that collide on one index. */
  problems: string[];
}

export function buildWorkspaceMap(networks: readonly Pick<NetworkStatus, "name" | "workspaces">[]): WorkspaceMap {
  const byIndex = new Map<number, MappedWorkspace>();
  const indexOfNetwork = new Map<string, number>();
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
        problems.push(`${network.name}: GNOME workspace ${index + 1} already belongs to ${owner.network} (${JSON.stringify(owner.workspace.slice(0, 40))})`);
        continue;
      }
      byIndex.set(index, { workspace, network: network.name });
      if (!indexOfNetwork.has(network.name)) indexOfNetwork.set(network.name, index);
    }
  }
  return { byIndex, indexOfNetwork, problems };
}

/** The name WorkspaceFocused is called with when GNOME workspace `index` becomes active. */
export function workspaceNameForIndex(map: WorkspaceMap, index: number): string {
  return map.byIndex.get(index)?.workspace ?? String(index + 1);
}
