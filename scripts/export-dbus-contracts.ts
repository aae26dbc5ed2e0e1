// Writes what the D-Bus contracts (src/shared/contracts/) give: share/dbus-1/interfaces/*.xml, the GNOME
// extension's plain-data copy and the generated sections of docs/dbus.md. Part of `npm run schemas`;
// test/shared/dbus-contracts.test.ts fails while a committed file differs from what this writes.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles, renderDocs } from "./dbus-contracts/render.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
for (const file of generatedFiles()) {
  const target = `${repo}${file.path}`;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.text);
  console.log(`wrote ${target}`);
}
const docs = `${repo}docs/dbus.md`;
await writeFile(docs, renderDocs(await readFile(docs, "utf8")));
console.log(`wrote ${docs}`);
