import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../../shared/errors.js";
import { NetworkName } from "../../shared/network-name.js";
import { shownText } from "../../shared/shown-text.js";
import { editConfigFile } from "../config/config-edits.js";
import type { Config } from "../config/schema.js";

// "New network": a flake of the user's own, made from nix/templates/network in their networks directory
// ($XDG_DATA_HOME/clan-desktop/networks/<name>), with configs.json's entry named after the network, and the network
// added to config.json with that flake as its source. It is the one kind of network whose configs.json
// clan-sessiond edits (network-configs-file.ts). Nothing is built: the user edits its applications first, then
// rebuilds.

export interface NewNetworkRequest {
  name: string;
  label: string;
  colour: string;
  workspace: string;
}

export interface NewNetworkOptions {
  networksDir: string;
  /** nix/templates/network of this installation. */
  templateDir: string;
  configFile: string;
  current: () => Config;
}

const TEMPLATE_ENTRY = "default";

/** The Nix system of this computer, as configs.json's `system` names it. */
function hostSystem(): string {
  return process.arch === "arm64" ? "aarch64-linux" : "x86_64-linux";
}

/** Creates the network's flake and registers it; returns the flake's directory. */
export async function createNetwork(request: NewNetworkRequest, options: NewNetworkOptions): Promise<string> {
  const name = NetworkName.safeParse(request.name);
  if (!name.success) throw new ClanError("InvalidArgument", `name: ${name.error.issues[0]?.message ?? "not a network name"}, got ${JSON.stringify(shownText(request.name, 48))}`);
  if (Object.hasOwn(options.current().networks, request.name)) throw new ClanError("InvalidArgument", `name: there is already a network named ${request.name}`);
  const directory = join(options.networksDir, request.name);
  await mkdir(options.networksDir, { recursive: true, mode: 0o700 });
  try {
    await mkdir(directory, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new ClanError("InvalidArgument", `name: ${directory} exists already; remove it or choose another name`);
    throw error;
  }
  try {
    await copyFile(join(options.templateDir, "flake.nix"), join(directory, "flake.nix"));
    await copyFile(join(options.templateDir, "network.nix"), join(directory, "network.nix"));
    const template = JSON.parse(await readFile(join(options.templateDir, "configs.json"), "utf8")) as Record<string, Record<string, unknown>>;
    const entry = { ...template[TEMPLATE_ENTRY], system: hostSystem() };
    await writeFile(join(directory, "configs.json"), `${JSON.stringify({ [request.name]: entry }, null, 2)}\n`, { flag: "wx" });
    await editConfigFile(options.configFile, [
      {
        path: ["networks", request.name],
        value: {
          label: request.label || request.name,
          workspaces: [request.workspace],
          colour: request.colour,
          source: { flake: `path:${directory}`, attribute: `packages.${hostSystem()}.${request.name}` },
        },
      },
    ]);
  } catch (error) {
    // A network that could not be registered leaves no half-made directory that would block the name.
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return directory;
}
