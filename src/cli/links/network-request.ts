import { ClanError } from "../../shared/errors.js";
import { checkNetworkConfigs, describeNetworkSpecProblem, type NetworkEntry } from "../../shared/network-spec.js";
import { readSourceFile } from "../../shared/flake-source/source-files.js";
import { shownText } from "../../shared/shown-text.js";

// What a network's flake asks of this computer, read from its configs.json as data (nothing of the flake is
// evaluated): the machines it offers and what the chosen one's VM gets. nix/templates/network builds each entry
// <name> as packages.<system>.<name>, so the entries are the machines.

const CONFIGS_LIMIT = 1024 * 1024;

export interface NetworkRequest {
  system: string;
  /** Machines configs.json describes for this system; empty without a usable configs.json. */
  machines: string[];
  machine: string;
  /** The attribute config.json's "attribute" gets. */
  attribute: string;
  /** The machine's entry of configs.json, when it has one. */
  entry: NetworkEntry | undefined;
  /** Why the VM is not described (no configs.json, not valid, no entry for the machine): shown, escaped. */
  problem: string | undefined;
}

function hostSystem(): string {
  const systems: Record<string, string> = { x64: "x86_64-linux", arm64: "aarch64-linux" };
  const system = systems[process.arch];
  if (!system || process.platform !== "linux") throw new ClanError("InvalidState", `clan-desktop runs network VMs on x86_64 or aarch64 Linux, not ${process.platform}/${process.arch}`);
  return system;
}

export async function readNetworkRequest(sourcePath: string, wanted: string | undefined): Promise<NetworkRequest> {
  const system = hostSystem();
  const { configs, problem } = await readConfigs(sourcePath);
  const machines = Object.entries(configs ?? {}).filter(([, entry]) => entry.system === system).map(([name]) => name).sort();
  const machine = chooseMachine(machines, wanted, configs !== undefined, system);
  const entry = configs?.[machine];
  const missing = configs !== undefined && entry === undefined ? `configs.json has no entry ${machine}` : undefined;
  return { system, machines, machine, attribute: `packages.${system}.${machine}`, entry: entry?.system === system ? entry : undefined, problem: problem ?? missing };
}

async function readConfigs(sourcePath: string): Promise<{ configs: Record<string, NetworkEntry> | undefined; problem: string | undefined }> {
  const text = await readSourceFile(sourcePath, "configs.json", CONFIGS_LIMIT);
  if (text === undefined) return { configs: undefined, problem: "the flake has no configs.json" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { configs: undefined, problem: `configs.json is not JSON: ${shownText((error as Error).message)}` };
  }
  const checked = checkNetworkConfigs(raw);
  if (!checked.ok) return { configs: undefined, problem: `configs.json: ${shownText(checked.problems.map(describeNetworkSpecProblem).join("; "), 400)}` };
  return { configs: checked.configs, problem: undefined };
}

function chooseMachine(machines: string[], wanted: string | undefined, hasConfigs: boolean, system: string): string {
  if (wanted !== undefined) return wanted;
  if (machines.length === 1) return machines[0]!;
  if (machines.length > 1) throw new ClanError("InvalidArgument", `the link names no machine and the network offers several: ${machines.join(", ")}; add #<machine> to the link`);
  throw new ClanError(
    "InvalidArgument",
    `the link names no machine and the flake's configs.json ${hasConfigs ? `describes none for ${system}` : "is missing or invalid, so it lists none"}; add #<machine> to the link`,
  );
}
