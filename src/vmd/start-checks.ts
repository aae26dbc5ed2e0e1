import type { DecodedVmStartOptions } from "../shared/vm-api.js";
import { loadGeneration, type Generation } from "./generation.js";
import { enforceResourceCap, enforceShareGrants, type HostCapacity } from "./host-access.js";
import { shareOwner } from "./share-daemons.js";
import type { VmIdentity } from "./vm-identity.js";

// What a Start refuses before anything changes, and a PrepareStart refuses the same way (start-preparation.ts):
// vm.json and the generation's files, the memory and cores it asks for, the host directories it shares (granted,
// directories virtiofsd may serve). vm.json comes from the network's flake and is hostile; the grants and
// overrides come from the caller, that is the user.

export interface StartRequest {
  network: string;
  generationPath: string;
  options: DecodedVmStartOptions;
  hostCapacity: HostCapacity;
  /** Who the network's QEMU runs as (vm-identity.ts), which decides who may serve each share. */
  identity: VmIdentity | undefined;
}

/** The generation as it is to boot: its shares resolved and granted, the user's overrides applied. */
export async function checkStart({ network, generationPath, options: { shareGrants, ...overrides }, hostCapacity, identity }: StartRequest): Promise<Generation> {
  const loaded = await loadGeneration(generationPath);
  enforceResourceCap(network, loaded, overrides, hostCapacity);
  const granted = await enforceShareGrants(network, loaded, shareGrants);
  for (const share of granted.vm.shares) await shareOwner(granted, share, identity);
  return { ...granted, vm: { ...granted.vm, ...overrides } };
}
