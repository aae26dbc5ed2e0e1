// Writes nix/lib/network-configs.schema.json from the zod schema in src/shared/network-spec.ts. Run after changing it:
//   node --import tsx scripts/export-network-schema.ts
// A unit test (test/nix/network-schema.test.ts) fails while the committed file differs from what this writes.
import { writeFile } from "node:fs/promises";
import { renderNetworkConfigsJsonSchema } from "../src/shared/network-spec.js";

const target = new URL("../nix/lib/network-configs.schema.json", import.meta.url);
await writeFile(target, renderNetworkConfigsJsonSchema());
console.log(`wrote ${target.pathname}`);
