import { describe, expect, it } from "vitest";
import { diffConfigs, isEmptyDiff } from "../../../src/session/config/diff.js";
import { ConfigSchema, emptyConfig } from "../../../src/session/config/schema.js";
import { networkInput } from "./fixtures.js";

function config(networks: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return ConfigSchema.parse({ networks, ...extra });
}

describe("diffConfigs", () => {
  const family = networkInput({ workspaces: ["1:family"] });
  const club = networkInput({ workspaces: ["2:club"], colour: "#00aa55" });

  it("finds nothing between equal configs", () => {
    const diff = diffConfigs(config({ family, club }), config({ club, family }));
    expect(diff).toEqual({ added: [], removed: [], changed: [], settingsChanged: [] });
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it("sees every network as added at start-up", () => {
    expect(diffConfigs(emptyConfig(), config({ family, club })).added).toEqual(["club", "family"]);
  });

  it("finds added, removed and changed networks, with the changed fields", () => {
    const previous = config({ family, club, work: networkInput({ workspaces: ["9"] }) });
    const next = config({
      family: { ...family, colour: "#ff0000", label: "Family", onLeave: { action: "keep" } },
      club,
      school: networkInput({ workspaces: ["5"] }),
    });
    const diff = diffConfigs(previous, next);
    expect(diff).toEqual({
      added: ["school"],
      removed: ["work"],
      changed: [{ name: "family", fields: ["colour", "label", "onLeave"] }],
      settingsChanged: [],
    });
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it("compares nested values, not identities", () => {
    const diff = diffConfigs(
      config({ family: { ...family, vm: { cores: 2 }, source: { flake: "/a" } } }),
      config({ family: { ...family, vm: { cores: 4 }, source: { flake: "/a", attribute: "vm" } } }),
    );
    expect(diff.changed).toEqual([{ name: "family", fields: ["source", "vm"] }]);
  });

  it("does not count a default written out as a change", () => {
    const diff = diffConfigs(
      config({ family }),
      config({ family: { ...family, label: "family", onLeave: { action: "pause" }, vm: {} } }, { switchDebounceMs: 150 }),
    );
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it("reports a workspace moving between networks as a change of both", () => {
    const diff = diffConfigs(
      config({ family: { ...family, workspaces: ["1", "2"] }, club: { ...club, workspaces: ["3"] } }),
      config({ family: { ...family, workspaces: ["1"] }, club: { ...club, workspaces: ["3", "2"] } }),
    );
    expect(diff.changed).toEqual([
      { name: "club", fields: ["workspaces"] },
      { name: "family", fields: ["workspaces"] },
    ]);
  });

  it("reports changed settings but not $schema", () => {
    const diff = diffConfigs(config({}, { $schema: "a.json" }), config({}, { $schema: "b.json", switchDebounceMs: 40 }));
    expect(diff.settingsChanged).toEqual(["switchDebounceMs"]);
  });
});
