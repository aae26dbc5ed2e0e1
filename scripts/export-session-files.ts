// Writes share/systemd/user/ and share/dbus-1/services/ (for packages installing to /usr) from the one generator
// that `clanctl session-files` also uses. Run after changing src/cli/session-files.ts:
//   node --import tsx scripts/export-session-files.ts
// A unit test (test/cli/session-files.test.ts) fails while the committed files differ from what this writes.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGED_COMMANDS, sessionFiles } from "../src/cli/session-files.js";

const share = fileURLToPath(new URL("../share/", import.meta.url));
for (const file of sessionFiles(PACKAGED_COMMANDS)) {
  const target = `${share}${file.path}`;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.text);
  console.log(`wrote ${target}`);
}
