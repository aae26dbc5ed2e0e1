import { z } from "zod";
import { ConfigSchema } from "./schema.js";

// The JSON Schema of config.json, generated from the zod schema so the two cannot disagree. It describes what a user
// writes (zod's "input" side): fields with defaults are optional and show their default. Checks that JSON Schema
// cannot express (workspaces unique across networks) are enforced by clan-sessiond only.

export const CONFIG_SCHEMA_ID = "urn:clan-desktop:schema:config";

export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(ConfigSchema, { io: "input", target: "draft-2020-12" });
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: "clan-desktop config",
    description:
      "The user config of clan-sessiond ($XDG_CONFIG_HOME/clan-desktop/config.json): networks, their workspaces, colours, sources and policies. See docs/config.md.",
    ...generated,
  };
}

/** The text of docs/schemas/config.schema.json. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
