// Writes the bash, zsh and fish completion scripts under share/ (for packages installing to /usr) from the one
// generator that `clanctl completions SHELL` also uses. Run after changing clanctl's command table:
//   node --import tsx scripts/export-completions.ts
// A unit test (test/cli/completions.test.ts) fails while the committed files differ from what this writes.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPLETION_FILES, completionScript } from "../src/cli/completions.js";

const share = fileURLToPath(new URL("../share/", import.meta.url));
for (const [shell, path] of Object.entries(COMPLETION_FILES)) {
  const target = `${share}${path}`;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, completionScript(shell as keyof typeof COMPLETION_FILES));
  console.log(`wrote ${target}`);
}
