import { realpath } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import { loadConfigFile, resolveConfigPath } from "../session/config/load.js";
import { configSnippet } from "../sway/config-snippet.js";
import { BAR_RELAY } from "./bar-command.js";

// `clanctl sway-config|i3-config`: prints the snippet for the user's window manager config, for the networks in
// the same config.json clan-sessiond reads (same lookup, same loader), with clanctl's own path in the bindings.

export async function runWmConfigCommand(
  command: "sway-config" | "i3-config",
  { values }: { values: { "with-bar"?: boolean; config?: string | undefined } },
): Promise<void> {
  const configFile = resolveConfigPath({ cliPath: values.config, env: process.env });
  const loaded = await loadConfigFile(configFile);
  if (!loaded.ok) process.stderr.write(`clanctl ${command}: no network keys, the config could not be read:\n${loaded.error.message}\n`);
  const networks = loaded.ok
    ? Object.entries(loaded.config.networks).map(([name, network]) => ({ name, label: network.label, workspaces: network.workspaces }))
    : [];
  const snippet = configSnippet({
    dialect: command === "sway-config" ? "sway" : "i3",
    networks,
    clanctl: await clanctlCommand(process.argv[1]),
    barRelay: (await isOnPath("clan-bar-relay", BAR_RELAY)) ? ["clan-bar-relay"] : [BAR_RELAY],
    withBar: values["with-bar"] ?? false,
    configFile,
    ...(loaded.ok ? {} : { configProblem: loaded.error.message }),
  });
  process.stdout.write(snippet);
}

/**
 * How the window manager should run this clanctl: plain `clanctl` when that name on PATH is this very program
 * (so the snippet survives upgrades that move it), otherwise this node and this script by absolute path (a
 * window manager started by a display manager may have neither on its PATH).
 */
export async function clanctlCommand(script: string | undefined, searchPath = process.env.PATH ?? ""): Promise<string[]> {
  if (!script) return ["clanctl"];
  const scriptPath = resolve(script);
  return (await isOnPath("clanctl", scriptPath, searchPath)) ? ["clanctl"] : [process.execPath, scriptPath];
}

/** Whether `name`, looked up on PATH, is the program at `path` (the same file, through any links). */
async function isOnPath(name: string, path: string, searchPath = process.env.PATH ?? ""): Promise<boolean> {
  const real = await realpath(path);
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = await realpath(join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      // Not in this directory, a dangling link, or a directory of PATH this user may not read: try the next.
      if (error.code === "ENOENT" || error.code === "ENOTDIR" || error.code === "EACCES") return undefined;
      throw error;
    });
    if (candidate === real) return true;
  }
  return false;
}
