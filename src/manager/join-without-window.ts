import { fileURLToPath } from "node:url";
import { execa } from "execa";

// Where node-gtk is missing, a clicked link is still answered: `clan-manager --join LINK` hands it to
// `clanctl join --from-desktop LINK`, which asks with desktop notifications (docs/links.md) and refuses a local
// source as the window does. The link reaches clanctl as one argument; no shell sees it.

const CLANCTL = fileURLToPath(new URL("../../bin/clanctl.js", import.meta.url));

export async function joinWithoutWindow(link: string, why: string, log: (message: string) => void): Promise<void> {
  log(`${why}; asking with desktop notifications instead (clanctl join --from-desktop)`);
  const result = await execa(process.execPath, [CLANCTL, "join", "--from-desktop", "--", link], { stdio: "inherit", reject: false });
  if (result.exitCode !== 0) process.exitCode = result.exitCode ?? 1;
}
