import { errorMessage } from "../shared/errors.js";
import type { VmdClient } from "../shared/vmd-client.js";
import { vmStartOptions, type NetworkConfig } from "./config/schema.js";
import type { NetworkRegistry } from "./network-registry.js";

// Has clan-vmd prepare each network's current generation for its start (PrepareStart, docs/dbus.md) as soon as
// that generation is known — clan-vmd appeared, a network was configured, a build, switch or rollback made another
// generation current — so that the generation's first start is as fast as its later ones. Nothing waits for it:
// a failure only means that the start prepares for itself, so it is logged (once until it changes), never notified.

export interface StartPreparerOptions {
  registry: NetworkRegistry;
  vmd: () => VmdClient | undefined;
  generationOf: (network: string, config: NetworkConfig) => string;
  log: (message: string) => void;
}

export class StartPreparer {
  /** The last failure logged per network: the same one again is not logged again. */
  private readonly lastFailure = new Map<string, string>();

  constructor(private readonly options: StartPreparerOptions) {}

  /** Asks clan-vmd to prepare the network's current generation; returns at once. */
  prepare(network: string): void {
    const vmd = this.options.vmd();
    const config = this.options.registry.config(network);
    if (!vmd || !config) return;
    vmd.prepareStart(network, this.options.generationOf(network, config), vmStartOptions(config)).then(
      () => this.lastFailure.delete(network),
      (error: unknown) => {
        const message = errorMessage(error);
        if (this.lastFailure.get(network) === message) return;
        this.lastFailure.set(network, message);
        this.options.log(`${network}: clan-vmd cannot prepare the current generation's start (its start will): ${message}`);
      },
    );
  }

  prepareAll(): void {
    for (const network of this.options.registry.names()) this.prepare(network);
  }

  /** The network left the config: what clan-vmd kept for its next start is not needed any more. */
  forget(network: string): void {
    this.lastFailure.delete(network);
    this.options.vmd()?.releaseStoreView(network).catch((error: unknown) => this.options.log(`${network}: clan-vmd cannot release its store view: ${errorMessage(error)}`));
  }
}
