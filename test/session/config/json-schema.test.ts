import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA_ID, configJsonSchema, renderConfigJsonSchema } from "../../../src/session/config/json-schema.js";
import { parseConfigText } from "../../../src/session/config/load.js";

const repository = new URL("../../../", import.meta.url);

describe("config JSON Schema", () => {
  it("is committed exactly as generated (regenerate: node --import tsx scripts/export-config-schema.ts)", async () => {
    const committed = await readFile(new URL("docs/schemas/config.schema.json", repository), "utf8");
    expect(committed).toBe(renderConfigJsonSchema());
  });

  it("identifies itself and describes the input a user writes", () => {
    const schema = configJsonSchema();
    expect(schema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: CONFIG_SCHEMA_ID,
      title: expect.any(String),
      description: expect.any(String),
      required: ["networks"],
      additionalProperties: false,
    });
    expect(JSON.stringify(schema)).toContain('"pattern":"^[a-z][a-z0-9-]{0,30}$"');
  });
});

describe("docs/config.md", () => {
  it("shows an example that is a valid config", async () => {
    const markdown = await readFile(new URL("docs/config.md", repository), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(example).toBeDefined();
    const result = parseConfigText(example ?? "", "docs/config.md");
    expect(result.ok ? Object.keys(result.config.networks) : result.error.message).toEqual(["family", "chess-club"]);
  });
});
