import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkNetworkConfigs,
  NETWORK_CONFIGS_SCHEMA_ID,
  networkConfigsJsonSchema,
  renderNetworkConfigsJsonSchema,
} from "../../src/shared/network-spec.js";
import { repositoryRoot } from "./nix.js";

describe("network configs JSON Schema (what nix/lib validates with)", () => {
  it("is committed exactly as generated (regenerate: node --import tsx scripts/export-network-schema.ts)", async () => {
    const committed = await readFile(join(repositoryRoot, "nix/lib/network-configs.schema.json"), "utf8");
    expect(committed).toBe(renderNetworkConfigsJsonSchema());
  });

  it("identifies itself and keeps its patterns anchored and free of what POSIX regexes lack", () => {
    const schema = networkConfigsJsonSchema();
    expect(schema).toMatchObject({ $id: NETWORK_CONFIGS_SCHEMA_ID, type: "object", propertyNames: expect.any(Object) });
    const patterns = [...JSON.stringify(schema).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map((match) => JSON.parse(match[1] ?? '""') as string);
    expect(patterns.length).toBeGreaterThan(3);
    for (const pattern of patterns) {
      expect(pattern).toMatch(/^\^.*\$$/);
      expect(pattern).not.toMatch(/\\[dDwWsSb\/]|\(\?/);
    }
  });
});

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}

function fieldPaths(node: SchemaNode, prefix = ""): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) =>
    child.properties ? fieldPaths(child, `${prefix}${name}.`) : [`${prefix}${name}`],
  );
}

describe("docs/nix.md", () => {
  it("shows a valid configs.json and documents every field", async () => {
    const markdown = await readFile(join(repositoryRoot, "docs/nix.md"), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(markdown)?.[1] ?? "";
    const checked = checkNetworkConfigs(JSON.parse(example));
    expect(checked.ok ? Object.keys(checked.configs) : checked.problems).toEqual(["default"]);

    const entry = networkConfigsJsonSchema()["additionalProperties"] as SchemaNode;
    for (const field of fieldPaths(entry)) expect(markdown, field).toContain(`| \`${field}\` |`);
  });
});
