import { lstat, mkdir, readdir, readlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { loadExeca } from "../../shared/lazy-execa.js";
import { ClanError } from "../../shared/errors.js";

// A network's generations are a Nix profile: `<name>-<N>-link` → a generation, and `<name>` → the current link.
// We read that layout directly (it is all `nix-env --list-generations` reads, dates included) and change it
// only through nix-env, so the daemon and `nix-env --profile` always agree.

export interface ProfileGeneration {
  number: number;
  /** When the generation was registered: the link's own time, as nix-env reports it. */
  createdAt: number;
  path: string;
  current: boolean;
}

export async function listGenerations(profile: string): Promise<ProfileGeneration[]> {
  const directory = dirname(profile);
  const name = basename(profile);
  const pattern = new RegExp(`^${escapeRegex(name)}-(\\d+)-link$`);
  const current = await readlink(profile).catch(() => undefined);
  const entries = await readdir(directory).catch(() => [] as string[]);
  const generations: ProfileGeneration[] = [];
  for (const entry of entries) {
    const number = pattern.exec(entry)?.[1];
    if (number === undefined) continue;
    const link = join(directory, entry);
    const [target, info] = await Promise.all([readlink(link), lstat(link)]);
    generations.push({ number: Number(number), createdAt: info.mtimeMs, path: target, current: current === entry || current === link });
  }
  return generations.sort((a, b) => a.number - b.number);
}

export async function currentGeneration(profile: string): Promise<ProfileGeneration | undefined> {
  return (await listGenerations(profile)).find((generation) => generation.current);
}

/** Registers `storePath` as the profile's next generation and makes it current; returns its number. */
export async function addGeneration(profile: string, storePath: string): Promise<number> {
  await mkdir(dirname(profile), { recursive: true });
  await nixEnv(profile, ["--set", storePath]);
  const current = await currentGeneration(profile);
  if (!current) throw new ClanError("Protocol", `nix-env --set left ${profile} without a current generation`);
  return current.number;
}

export async function switchGeneration(profile: string, number: number): Promise<void> {
  const known = await listGenerations(profile);
  if (!known.some((generation) => generation.number === number)) {
    const numbers = known.map((generation) => generation.number).join(", ") || "none";
    throw new ClanError("NotFound", `${profile} has no generation ${number} (it has: ${numbers})`);
  }
  await nixEnv(profile, ["--switch-generation", String(number)]);
}

/** The generation before the current one, which `nix-env --rollback` would switch to. */
export async function previousGeneration(profile: string): Promise<ProfileGeneration | undefined> {
  const generations = await listGenerations(profile);
  const current = generations.find((generation) => generation.current);
  if (!current) return undefined;
  return generations.filter((generation) => generation.number < current.number).at(-1);
}

async function nixEnv(profile: string, args: string[]): Promise<void> {
  const result = await (await loadExeca())("nix-env", ["--profile", profile, ...args], { reject: false });
  if (result.exitCode !== 0) {
    throw new ClanError("BuildFailed", `nix-env --profile ${profile} ${args.join(" ")} failed: ${lastLines(result.stderr)}`);
  }
}

function lastLines(text: string): string {
  return text.split("\n").filter((line) => line.trim() && !line.includes("build-users-group")).slice(-3).join("; ");
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
