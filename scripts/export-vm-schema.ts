// Writes docs/schemas/vm.schema.json from the zod schema. Run after changing VmSpec in src/shared/vm-spec.ts:
//   node --import tsx scripts/export-vm-schema.ts
// A unit test (test/shared/vm-json-schema.test.ts) fails while the committed file differs from what this writes.
import { writeFile } from "node:fs/promises";
import { renderVmJsonSchema } from "../src/shared/vm-json-schema.js";

const target = new URL("../docs/schemas/vm.schema.json", import.meta.url);
await writeFile(target, renderVmJsonSchema());
console.log(`wrote ${target.pathname}`);
