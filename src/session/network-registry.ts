import { EventEmitter } from "node:events";
import { isDeepStrictEqual } from "node:util";
import { initialNetworkStatus, type NetworkStatus } from "../shared/session-api.js";
import type { VmStatus } from "../shared/vm-api.js";
import type { Config, NetworkConfig } from "./config/schema.js";

// The status of every configured network, and the one place that publishes a change of it. Everything that
// learns something about a network (the VM's state, focus, a backup, a build) reports it here.

export interface NetworkRegistryEvents {
  changed: [NetworkStatus];
  /** Networks were added or removed (a config reload). */
  "list-changed": [string[]];
}

export class NetworkRegistry extends EventEmitter<NetworkRegistryEvents> {
  private readonly networks = new Map<string, NetworkStatus>();
  private configs: Record<string, NetworkConfig> = Object.create(null);

  applyConfig(config: Config): void {
    const before = [...this.networks.keys()].join("\0");
    this.configs = config.networks;
    for (const name of [...this.networks.keys()]) if (!(name in config.networks)) this.networks.delete(name);
    for (const [name, network] of Object.entries(config.networks)) {
      const previous = this.networks.get(name);
      const next: NetworkStatus = {
        ...(previous ?? initialNetworkStatus(name)),
        label: network.label,
        colour: network.colour,
        workspaces: [...network.workspaces],
        sourceKind: "flake" in network.source ? "flake" : "profile",
      };
      this.networks.set(name, next);
      if (previous && JSON.stringify(previous) !== JSON.stringify(next)) this.emit("changed", next);
    }
    if (before !== [...this.networks.keys()].join("\0")) this.emit("list-changed", this.names());
  }

  names(): string[] {
    return [...this.networks.keys()].sort();
  }

  list(): NetworkStatus[] {
    return this.names().map((name) => ({ ...this.networks.get(name)! }));
  }

  get(name: string): NetworkStatus | undefined {
    const status = this.networks.get(name);
    return status && { ...status };
  }

  config(name: string): NetworkConfig | undefined {
    return this.configs[name];
  }

  networkOfWorkspace(workspace: string): string | undefined {
    for (const [name, network] of Object.entries(this.configs)) if (network.workspaces.includes(workspace)) return name;
    return undefined;
  }

  update(name: string, change: Partial<NetworkStatus>): void {
    const current = this.networks.get(name);
    if (!current) return;
    const next = { ...current, ...change };
    if ((Object.keys(change) as (keyof NetworkStatus)[]).every((key) => isDeepStrictEqual(current[key], next[key]))) return;
    this.networks.set(name, next);
    this.emit("changed", { ...next });
  }

  applyVmStatus(vm: VmStatus): void {
    this.update(vm.network, {
      vmState: vm.state,
      generation: vm.generation,
      ...(vm.error ? { error: vm.error } : {}),
      vpnState: vm.vpnState,
      vpnPeers: vm.vpnPeers,
      vpnLastHandshake: vm.vpnLastHandshake,
    });
  }

  markVmsUnavailable(): void {
    for (const name of this.networks.keys()) this.update(name, { vmState: "unavailable" });
  }
}

