import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { VM_SCHEMA_ID, renderVmJsonSchema, vmJsonSchema } from "../../src/shared/vm-json-schema.js";

const repository = new URL("../../", import.meta.url);

describe("vm.json JSON Schema", () => {
  it("is committed exactly as generated (regenerate: node --import tsx scripts/export-vm-schema.ts)", async () => {
    const committed = await readFile(new URL("docs/schemas/vm.schema.json", repository), "utf8");
    expect(committed).toBe(renderVmJsonSchema());
  });

  it("identifies itself and describes what a generation writes, defaults optional", () => {
    expect(vmJsonSchema()).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: VM_SCHEMA_ID,
      type: "object",
      additionalProperties: false,
      properties: { memoryMiB: { type: "integer", default: 512, minimum: 64, maximum: 65536 } },
    });
    expect(vmJsonSchema()).not.toHaveProperty("required");
  });

  it("carries the share source pattern, which refuses what clan-vmd refuses", () => {
    const schema = vmJsonSchema() as { properties: { shares: { items: { properties: { source: { pattern: string } } } } } };
    const pattern = new RegExp(schema.properties.shares.items.properties.source.pattern, "u");
    for (const source of ["/home/u/docs", "relative/docs", "/docs,readonly=off", "/new\nline"]) {
      const acceptedByZod = VmSpec.safeParse({ shares: [{ tag: "docs", source }] }).success;
      expect({ source, accepted: pattern.test(source) }).toEqual({ source, accepted: acceptedByZod });
    }
  });
});
