import { fileURLToPath } from "node:url";
import { execa } from "execa";

// `clanctl manager`: opens the manager window. clan-manager is one application per session (GApplication), so
// when its window is open already this presents it and returns at once. The window's own failures (node-gtk
// missing, no display) are printed by clan-manager itself; clanctl exits with its status.

const MANAGER = fileURLToPath(new URL("../../bin/clan-manager.js", import.meta.url));

export async function runManagerCommand(): Promise<void> {
  const result = await execa(process.execPath, [MANAGER], { stdio: "inherit", reject: false });
  if (result.exitCode !== 0) process.exitCode = result.exitCode ?? 1;
}
