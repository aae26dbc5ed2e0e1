import { realpath, stat } from "node:fs/promises";
import { ClanError } from "../shared/errors.js";
import { describeRefusal, judgeShare, type ShareGrant } from "../shared/share-grants.js";
import type { VmOverrides } from "../shared/vm-api.js";
import type { Generation } from "./generation.js";

// What a generation may take from the host, decided before anything starts: the host directories it shares
// (only what the user granted) and the memory and cores it uses (within a share of this host). vm.json comes from
// the network's flake and is hostile; the grants and overrides come from the caller of Start, that is the user.

export interface HostCapacity {
  memoryMiB: number;
  cores: number;
  /** How much of the host's memory a generation may ask for by itself; the user's override may ask for all of it. */
  generationMemoryPercent: number;
}

export const DEFAULT_GENERATION_MEMORY_PERCENT = 50;

/**
 * Refuses a generation whose vm.json asks for more than `host` allows, naming the field. The user's own
 * override replaces the generation's value and may use up to the whole host.
 */
export function enforceResourceCap(network: string, generation: Generation, overrides: VmOverrides, host: HostCapacity): void {
  const capMiB = Math.floor((host.memoryMiB * host.generationMemoryPercent) / 100);
  const hint = (field: string, limit: string) => `to allow it, set networks.${network}.vm.${field} in config.json (at most ${limit})`;
  if (overrides.memoryMiB !== undefined) {
    if (overrides.memoryMiB > host.memoryMiB) {
      throw new ClanError("OverLimit", `override memoryMiB: ${overrides.memoryMiB} MiB is more than this host's ${host.memoryMiB} MiB`);
    }
  } else if (generation.vm.memoryMiB > capMiB) {
    throw new ClanError(
      "OverLimit",
      `${generation.path}/vm.json: field memoryMiB: the generation asks for ${generation.vm.memoryMiB} MiB, more than a network may take by itself ` +
        `(${host.generationMemoryPercent} % of this host's ${host.memoryMiB} MiB = ${capMiB} MiB); ${hint("memoryMiB", `${host.memoryMiB} MiB`)}`,
    );
  }
  if (overrides.cores !== undefined) {
    if (overrides.cores > host.cores) throw new ClanError("OverLimit", `override cores: ${overrides.cores} is more than this host's ${host.cores} cores`);
  } else if (generation.vm.cores > host.cores) {
    throw new ClanError(
      "OverLimit",
      `${generation.path}/vm.json: field cores: the generation asks for ${generation.vm.cores} cores, more than this host's ${host.cores}; ${hint("cores", String(host.cores))}`,
    );
  }
}

/**
 * Refuses a generation with a share the grants do not cover, and returns it with every share's source replaced
 * by its resolved path: a symlink at (or above) the share root cannot lead virtiofsd outside the granted tree,
 * and virtiofsd is given the directory that was checked rather than a name the network could re-point later.
 */
export async function enforceShareGrants(network: string, generation: Generation, grants: readonly ShareGrant[]): Promise<Generation> {
  const resolvedGrants = await Promise.all(grants.map(async (grant) => ({ ...grant, path: await realpath(grant.path).catch(() => grant.path) })));
  const shares = [];
  for (const share of generation.vm.shares) {
    const resolved = await realpath(share.source).catch(() => undefined);
    if (resolved === undefined || !(await stat(resolved)).isDirectory()) {
      throw new ClanError("InvalidGeneration", `${generation.path}/vm.json: field shares: share "${share.tag}": ${share.source} is not a directory`);
    }
    const refusal = describeRefusal(share, resolved, judgeShare(share, resolved, resolvedGrants), network);
    if (refusal) throw new ClanError("NotGranted", refusal);
    shares.push({ ...share, source: resolved });
  }
  return { ...generation, vm: { ...generation.vm, shares } };
}
