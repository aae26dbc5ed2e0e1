import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import { checkNetworkConfigs, describeNetworkSpecProblem, type NetworkEntry } from "../../shared/network-spec.js";

// What a join shows before the user confirms: the revision the flake resolves to, the machines it offers and what
// the chosen machine's VM would get. This fetches the flake's source into the Nix store (content-addressed; nothing
// in it runs) and evaluates its outputs in Nix's pure mode without import-from-derivation, so no builder runs
// before the user has said yes.

const NIX = ["--extra-experimental-features", "nix-command flakes"];
const NIX_TIMEOUT_MS = 5 * 60_000;

const Metadata = z
  .object({
    /** The source's copy in the store. */
    path: z.string().startsWith("/nix/store/"),
    /** The reference pinned to what was fetched. */
    url: z.string(),
    revision: z.string().optional(),
    lastModified: z.number().optional(),
    locked: z.object({ narHash: z.string().optional() }).loose().optional(),
  })
  .loose();

const ShownOutputs = z.object({ packages: z.record(z.string(), z.record(z.string(), z.unknown())).optional() }).loose();

export interface FlakeInspection {
  /** A git commit, or the content hash of a source without one. */
  revision: string;
  /** Unix time in ms of the revision, 0 when unknown. */
  lastModified: number;
  /** The reference pinned to the inspected revision. */
  lockedUrl: string;
  system: string;
  /** Machines the flake builds for this system: the names under packages.<system>. */
  machines: string[];
  machine: string;
  /** The attribute config.json's "attribute" gets. */
  attribute: string;
  /** The machine's entry of the flake's configs.json, when it has one. */
  configEntry: NetworkEntry | undefined;
  /** Why configs.json could not be used, when it exists but is invalid. */
  configProblem: string | undefined;
}

export function hostSystem(): string {
  const systems: Record<string, string> = { x64: "x86_64-linux", arm64: "aarch64-linux" };
  const system = systems[process.arch];
  if (!system || process.platform !== "linux") throw new ClanError("InvalidState", `clan-desktop runs network VMs on x86_64 or aarch64 Linux, not ${process.platform}/${process.arch}`);
  return system;
}

export async function inspectFlake(flake: string, wantedMachine: string | undefined): Promise<FlakeInspection> {
  const metadata = Metadata.parse(JSON.parse(await nix(["flake", "metadata", "--json", flake], `read flake ${flake}`)));
  const system = hostSystem();
  const shown = ShownOutputs.parse(
    JSON.parse(await nix(["flake", "show", "--json", "--option", "allow-import-from-derivation", "false", metadata.url], `list the machines of ${flake}`)),
  );
  const machines = Object.keys(shown.packages?.[system] ?? {}).sort();
  const machine = chooseMachine(machines, wantedMachine, flake, system);
  const { entry, problem } = await readConfigEntry(metadata.path, machine);
  return {
    revision: metadata.revision ?? metadata.locked?.narHash ?? "unknown",
    lastModified: (metadata.lastModified ?? 0) * 1000,
    lockedUrl: metadata.url,
    system,
    machines,
    machine,
    attribute: `packages.${system}.${machine}`,
    configEntry: entry,
    configProblem: problem,
  };
}

function chooseMachine(machines: string[], wanted: string | undefined, flake: string, system: string): string {
  if (machines.length === 0) throw new ClanError("NotFound", `${flake} builds no machine for ${system} (it has no packages.${system})`);
  if (wanted !== undefined) {
    if (!machines.includes(wanted)) throw new ClanError("NotFound", `${flake} offers no machine ${JSON.stringify(wanted)}; it offers: ${machines.join(", ")}`);
    return wanted;
  }
  if (machines.length > 1) {
    throw new ClanError("InvalidArgument", `the link names no machine and ${flake} offers several: ${machines.join(", ")}; add #<machine> to the link`);
  }
  return machines[0]!;
}

async function readConfigEntry(source: string, machine: string): Promise<{ entry: NetworkEntry | undefined; problem: string | undefined }> {
  let text: string;
  try {
    text = await readFile(join(source, "configs.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entry: undefined, problem: undefined };
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { entry: undefined, problem: `configs.json is not JSON: ${(error as Error).message}` };
  }
  const checked = checkNetworkConfigs(raw);
  if (!checked.ok) return { entry: undefined, problem: `configs.json: ${checked.problems.map(describeNetworkSpecProblem).join("; ")}` };
  return { entry: checked.configs[machine], problem: undefined };
}

async function nix(args: string[], what: string): Promise<string> {
  const result = await execa("nix", [...NIX, ...args], { reject: false, timeout: NIX_TIMEOUT_MS });
  if (result.timedOut) throw new ClanError("Timeout", `cannot ${what}: nix took longer than ${NIX_TIMEOUT_MS / 60_000} minutes`);
  if (result.exitCode !== 0) {
    const reason = result.stderr
      .replace(/\u001b\[[0-9;]*m/g, "")
      .split("\n").filter((line) => line.startsWith("error") || line.includes("error:")).join(" ").trim();
    throw new ClanError("BuildFailed", `cannot ${what}: ${reason || result.stderr.trim().split("\n").at(-1) || `nix exited ${result.exitCode}`}`);
  }
  return result.stdout;
}
