import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NETWORK_CONFIGS_SCHEMA_ID, networkConfigsJsonSchema, renderNetworkConfigsJsonSchema } from "../../src/shared/network-spec.js";
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
