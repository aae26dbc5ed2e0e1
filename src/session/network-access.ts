import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../shared/errors.js";
import { describeAccess, normalisePath } from "../shared/share-grants.js";
import { readVmSpec } from "../shared/vm-spec.js";
import type { NetworkConfig } from "./config/schema.js";
import type { NetworkRegistry } from "./network-registry.js";

// Publishes what each network's generation asks of this host — shares (and whether the user's grants allow
// them), port forwards, network mode — so that the bar, `clanctl status` and GNOME show it before and while it
// runs. The generation is the booted one while the VM runs, else the profile's current one; its vm.json is read
// as data and nothing in it is acted on here (clan-vmd enforces the grants).

export interface NetworkAccessOptions {
  registry: NetworkRegistry;
  /** The network's profile link (or generation directory): its current generation when no VM runs. */
  generationOf: (network: string, config: NetworkConfig) => string;
  log: (message: string) => void;
}

const NOTHING_KNOWN = { shares: [], forwards: [], networkMode: "" };

export class NetworkAccess {
  /** Per network: what the published fields were computed from, so that a status change re-reads only when needed. */
  private readonly computedFrom = new Map<string, string>();
  /** Per network: the refresh running now; the next one waits for it, so an older read never wins. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: NetworkAccessOptions) {
    options.registry.on("changed", (status) => void this.refresh(status.name));
    options.registry.on("list-changed", (names) => {
      for (const name of this.computedFrom.keys()) if (!names.includes(name)) this.computedFrom.delete(name);
      for (const name of names) void this.refresh(name);
    });
  }

  /** Re-reads the network's generation when it, or the network's grants, changed. */
  refresh(network: string): Promise<void> {
    const next = (this.running.get(network) ?? Promise.resolve())
      .then(() => this.refreshNow(network))
      .catch((error: unknown) => this.options.log(`${network}: cannot publish what it asks of this host: ${errorMessage(error)}`))
      .finally(() => {
        if (this.running.get(network) === next) this.running.delete(network);
      });
    this.running.set(network, next);
    return next;
  }

  private async refreshNow(network: string): Promise<void> {
    const { registry, log } = this.options;
    const config = registry.config(network);
    const status = registry.get(network);
    if (!config || !status) return;
    const directory = await realpath(status.generation || this.options.generationOf(network, config)).catch(() => undefined);
    const grants = await Promise.all(config.grants.shares.map(async (grant) => ({ ...grant, path: await realpath(grant.path).catch(() => grant.path) })));
    const from = JSON.stringify([directory, grants]);
    if (this.computedFrom.get(network) === from) return;
    this.computedFrom.set(network, from);
    if (directory === undefined) {
      registry.update(network, NOTHING_KNOWN);
      return;
    }
    try {
      const vm = await readVmSpec(join(directory, "vm.json"));
      const resolved = new Map(await Promise.all(vm.shares.map(async (share) => [share.source, await realpath(share.source).catch(() => normalisePath(share.source))] as const)));
      registry.update(network, describeAccess(vm, grants, (path) => resolved.get(path) ?? normalisePath(path)));
    } catch (error) {
      log(`${network}: cannot read what generation ${directory} asks of this host: ${errorMessage(error)}`);
      registry.update(network, NOTHING_KNOWN);
    }
  }
}
