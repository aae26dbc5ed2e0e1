import { describe, expect, it } from "vitest";
import { buildWorkspaceMap, gnomeIndexOfWorkspaceName, unclaimedWorkspaceName } from "../../src/gnome-extension/core/workspace-map.js";

describe("config workspace names on GNOME's numbered workspaces", () => {
  it.each([
    ["2:family", 1],
    ["1", 0],
    ["36:last", 35],
    ["10:x:y", 9],
    ["0:zero", undefined],
    ["37:too-many", undefined],
    ["family", undefined],
    ["2family", undefined],
    [" 2:family", undefined],
  ])("%j is GNOME workspace index %s", (name, index) => {
    expect(gnomeIndexOfWorkspaceName(name)).toBe(index);
  });

  const map = buildWorkspaceMap([
    { name: "family", workspaces: ["2:family", "5:photos"] },
    { name: "club", workspaces: ['4:club "x"; exec evil', "2:club", "club-only"] },
  ]);

  it("gives each numbered name a slot, placed first at its number; the network that sorts first wins a shared number", () => {
    expect(map.slots).toEqual([
      { workspace: "2:club", network: "club", preferredIndex: 1 },
      { workspace: '4:club "x"; exec evil', network: "club", preferredIndex: 3 },
      { workspace: "5:photos", network: "family", preferredIndex: 4 },
    ]);
    expect(map.slotOfNetwork.get("family")?.workspace).toBe("5:photos");
    expect(map.slotOfNetwork.get("club")?.workspace).toBe('4:club "x"; exec evil');
  });

  it("reports a GNOME workspace no network holds by a name no network claims", () => {
    expect(unclaimedWorkspaceName(map, 0)).toBe("1");
    const bare = buildWorkspaceMap([{ name: "a", workspaces: ["3", "3'"] }]);
    // Numbers move with GNOME's dynamic workspaces: the third workspace need not be a's, so it must not enter a.
    expect(unclaimedWorkspaceName(bare, 2)).toBe("3''");
    expect(unclaimedWorkspaceName(bare, 3)).toBe("4");
  });

  it("names each problem for the menu", () => {
    expect(map.problems).toEqual([
      'club: workspace "club-only" has no number, so no GNOME workspace',
      'family: workspace number 2 already belongs to club ("2:club")',
    ]);
  });
});
