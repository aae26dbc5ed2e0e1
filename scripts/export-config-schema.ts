// Writes docs/schemas/config.schema.json from the zod schema. Run after changing src/session/config/schema.ts:
//   node --import tsx scripts/export-config-schema.ts
// A unit test fails while the committed file differs from what this writes.
import { writeFile } from "node:fs/promises";
import { renderConfigJsonSchema } from "../src/session/config/json-schema.js";

const target = new URL("../docs/schemas/config.schema.json", import.meta.url);
await writeFile(target, renderConfigJsonSchema());
console.log(`wrote ${target.pathname}`);
