import { describe, expect, it } from "vitest";
import { buildWorkspaceMap, gnomeIndexOfWorkspaceName, workspaceNameForIndex } from "../../src/gnome-extension/core/workspace-map.js";

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

  it("maps indexes to the config's exact names; the network that sorts first wins a shared number", () => {
    expect(workspaceNameForIndex(map, 1)).toBe("2:club");
    expect(workspaceNameForIndex(map, 3)).toBe('4:club "x"; exec evil');
    expect(workspaceNameForIndex(map, 4)).toBe("5:photos");
    expect(map.indexOfNetwork.get("family")).toBe(4);
    expect(map.indexOfNetwork.get("club")).toBe(3);
  });

  it("reports an unclaimed GNOME workspace as its bare number, which belongs to no network", () => {
    expect(workspaceNameForIndex(map, 0)).toBe("1");
    expect(workspaceNameForIndex(map, 2)).toBe("3");
  });

  it("names each problem for the menu", () => {
    expect(map.problems).toEqual([
      'club: workspace "club-only" has no number, so no GNOME workspace',
      'family: GNOME workspace 2 already belongs to club ("2:club")',
    ]);
  });
});
