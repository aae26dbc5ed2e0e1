import { describe, expect, it } from "vitest";
import { gatedNotify } from "../../src/session/notification-gate.js";
import { configsDiff } from "../../src/shared/network-configs-diff.js";
import { networkEntryFields } from "../../src/shared/network-configs-fields.js";
import { networkConfigsJsonSchema } from "../../src/shared/network-spec.js";

// The Applications form's field list comes from the JSON Schema that nix/lib validates with (the staleness test of
// that file against the zod schema is test/nix/network-schema.test.ts): every leaf of an entry is a field of the
// form, with the kind of widget its type asks for.

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

function schemaLeaves(node: SchemaNode, prefix: string[] = []): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) =>
    child.type === "object" ? schemaLeaves(child, [...prefix, name]) : [[...prefix, name].join(".")],
  );
}

describe("the form's fields", () => {
  it("are every leaf of a configs.json entry in nix/lib's schema, and nothing else", () => {
    const entry = networkConfigsJsonSchema()["additionalProperties"] as SchemaNode;
    expect(networkEntryFields().map((field) => field.path.join("."))).toEqual(schemaLeaves(entry));
  });

  it("have the widget kind, choices, bounds and defaults of their schema", () => {
    const byPath = new Map(networkEntryFields().map((field) => [field.path.join("."), field]));
    expect(byPath.get("applications.syncthing.enable")).toMatchObject({ kind: "boolean", default: true, title: "Applications › Syncthing › Enable" });
    expect(byPath.get("applications.syncthing.sharedFolders")).toMatchObject({ kind: "text-list", maxItems: 64, patternMessage: expect.stringContaining("absolute path") });
    expect(byPath.get("networkLayer")).toMatchObject({ kind: "choice", choices: ["yggdrasil", "wireguard", "zerotier", "none"], default: "none" });
    expect(byPath.get("adminMode")).toMatchObject({ kind: "choice", choices: ["local", "remote", "shared"] });
    expect(byPath.get("applications.mumbleClient.server")).toMatchObject({ kind: "text", required: true });
    expect(byPath.get("applications.mumbleClient.port")).toMatchObject({ kind: "integer", minimum: 1, maximum: 65535 });
  });
});

describe("configsDiff", () => {
  it("lists changed, added and removed fields by their full path", () => {
    const before = { home: { networkLayer: "none", applications: { syncthing: { enable: true, sharedFolders: ["/a"] } } } };
    const after = { home: { networkLayer: "yggdrasil", applications: { syncthing: { sharedFolders: ["/a", "/b"] }, mumbleClient: { server: "m.example" } } } };
    expect(configsDiff(before, after)).toEqual([
      '~ home.networkLayer: "none" → "yggdrasil"',
      '~ home.applications.syncthing.sharedFolders: ["/a"] → ["/a","/b"]',
      '+ home.applications.mumbleClient.server: "m.example"',
      "- home.applications.syncthing.enable: true",
    ]);
    expect(configsDiff(before, before)).toEqual([]);
  });

  it("cuts a huge value", () => {
    const [line] = configsDiff({}, { home: { adminSshKeys: ["x".repeat(10_000)] } });
    expect(line!.length).toBeLessThan(200);
  });
});

describe("the notifications setting", () => {
  it("lets notices through only while it is on, read at each notice", () => {
    const shown: string[] = [];
    let enabled = true;
    const notify = gatedNotify((summary) => shown.push(summary), () => enabled);
    notify("first", "", "normal");
    enabled = false;
    notify("second", "", "critical");
    enabled = true;
    notify("third", "", "low");
    expect(shown).toEqual(["first", "third"]);
  });
});
