// Checks the config.json that nixosModules.host writes with clan-sessiond's own loader while the NixOS system is
// built, so that a mistake in services.clan-desktop.networks fails the build rather than the desktop session.
//   node check-config.mjs <directory of the clan-desktop package> <config.json>
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDirectory, file] = process.argv.slice(2);
if (packageDirectory === undefined || file === undefined) {
  console.error("usage: node check-config.mjs <clan-desktop package directory> <config.json>");
  process.exit(2);
}
const { loadConfigFile } = await import(pathToFileURL(join(packageDirectory, "dist/session/config/load.js")).href);
const result = await loadConfigFile(file);
if (!result.ok) {
  console.error(result.error.message);
  process.exit(1);
}
