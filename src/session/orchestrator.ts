import { ClanError, errorMessage } from "../shared/errors.js";
import type { VmStartOptions, VmStatus } from "../shared/vm-api.js";
import { vmStartOptions, type NetworkConfig } from "./config/schema.js";
import type { NetworkRegistry } from "./network-registry.js";

// Turns focus into VM actions. Entering a network's workspace resumes its paused VM at once (the fast path
// of a switch); a cold start waits until the workspace has stayed focused for the debounce time, so flicking
// through workspaces never boots VMs the user only passed. Leaving applies the network's policy only after
// the same quiet time, so a storm of switches never pauses, stops or restarts anything.

export interface VmControl {
  start(network: string, generation: string, options: VmStartOptions): Promise<VmStatus>;
  stop(network: string): Promise<VmStatus>;
  pause(network: string): Promise<VmStatus>;
  resume(network: string): Promise<VmStatus>;
}

export interface OrchestratorOptions {
  registry: NetworkRegistry;
  vms: () => VmControl | undefined;
  generationOf: (network: string, config: NetworkConfig) => string;
  debounceMs: () => number;
  log: (message: string) => void;
}

interface Timers {
  enter?: NodeJS.Timeout;
  leave?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

export class Orchestrator {
  private focusedNetwork: string | undefined;
  private readonly timers = new Map<string, Timers>();
  private readonly held = new Set<string>();

  constructor(private readonly options: OrchestratorOptions) {}

  get focused(): string | undefined {
    return this.focusedNetwork;
  }

  workspaceFocused(workspace: string): void {
    const { registry } = this.options;
    const entered = registry.networkOfWorkspace(workspace);
    const left = this.focusedNetwork;
    this.focusedNetwork = entered;
    if (left === entered) return;
    if (left !== undefined) {
      registry.update(left, { focused: false });
      this.scheduleLeave(left);
    }
    if (entered !== undefined) {
      registry.update(entered, { focused: true });
      this.enter(entered);
    }
  }

  /** Explicit requests (clanctl, the bar, GNOME) act at once, without debounce. */
  async start(network: string): Promise<void> {
    this.clearTimers(network);
    await this.ensureRunning(network);
  }

  async stop(network: string): Promise<void> {
    this.clearTimers(network);
    await this.act(network, "stop", (vms) => vms.stop(network));
  }

  async pause(network: string): Promise<void> {
    this.clearTimers(network);
    await this.act(network, "pause", (vms) => vms.pause(network));
  }

  /** Keeps this orchestrator from acting on the network's VM — a restore stops it, swaps its disk and starts it
   *  itself — until the returned function is called; then a network focused meanwhile is entered. */
  hold(network: string): () => void {
    this.clearTimers(network);
    this.held.add(network);
    return () => {
      this.held.delete(network);
      if (this.focusedNetwork === network) this.enter(network);
    };
  }

  /** A network removed from the config: stop its VM (nothing would ever manage it again) and its timers. */
  async forget(network: string): Promise<void> {
    this.clearTimers(network);
    if (this.focusedNetwork === network) this.focusedNetwork = undefined;
    await this.options
      .vms()
      ?.stop(network)
      .catch((error: unknown) => {
        // A network whose VM clan-vmd never ran has nothing to stop.
        if (error instanceof ClanError && error.code === "UnknownNetwork") return;
        this.options.log(`${network}: removed from the config, but its VM did not stop: ${errorMessage(error)}`);
      });
  }

  close(): void {
    for (const network of this.timers.keys()) this.clearTimers(network);
  }

  private enter(network: string): void {
    const timers = this.timersOf(network);
    clearTimeout(timers.leave);
    clearTimeout(timers.idle);
    const state = this.options.registry.get(network)?.vmState;
    if (state === "paused") {
      void this.act(network, "resume", (vms) => vms.resume(network));
      return;
    }
    if (state === "running" || state === "starting") return;
    clearTimeout(timers.enter);
    timers.enter = setTimeout(() => {
      if (this.focusedNetwork === network) void this.ensureRunning(network);
    }, this.options.debounceMs());
  }

  private scheduleLeave(network: string): void {
    const timers = this.timersOf(network);
    clearTimeout(timers.enter);
    const config = this.options.registry.config(network);
    if (!config) return;
    const policy = config.onLeave;
    const debounce = this.options.debounceMs();
    clearTimeout(timers.leave);
    if (policy.action !== "keep") {
      const delay = policy.action === "stop" ? Math.max(debounce, policy.afterSeconds * 1000) : debounce;
      timers.leave = setTimeout(() => {
        if (this.focusedNetwork === network) return;
        if (policy.action === "stop") void this.act(network, "stop", (vms) => vms.stop(network));
        else if (this.options.registry.get(network)?.vmState === "running") {
          void this.act(network, "pause", (vms) => vms.pause(network));
        }
      }, delay);
    }
    clearTimeout(timers.idle);
    if (config.stopWhenIdleMinutes !== null) {
      timers.idle = setTimeout(() => {
        if (this.focusedNetwork !== network) void this.act(network, "stop (idle)", (vms) => vms.stop(network));
      }, config.stopWhenIdleMinutes * 60_000);
    }
  }

  private async ensureRunning(network: string): Promise<void> {
    const { registry } = this.options;
    const config = registry.config(network);
    if (!config) return;
    if (registry.get(network)?.vmState === "paused") {
      await this.act(network, "resume", (vms) => vms.resume(network));
      return;
    }
    const generation = this.options.generationOf(network, config);
    await this.act(network, "start", (vms) => vms.start(network, generation, vmStartOptions(config)));
  }

  private async act(network: string, what: string, action: (vms: VmControl) => Promise<VmStatus>): Promise<void> {
    if (this.held.has(network)) {
      this.options.log(`${network}: not doing ${what}: its state disk is being restored`);
      return;
    }
    const vms = this.options.vms();
    if (!vms) {
      this.options.registry.update(network, { error: `cannot ${what}: clan-vmd is not running` });
      return;
    }
    try {
      const status = await action(vms);
      this.options.registry.applyVmStatus(status);
      if (status.state !== "failed") this.options.registry.update(network, { error: "" });
    } catch (error) {
      const message = `${what} failed: ${errorMessage(error)}`;
      this.options.log(`${network}: ${message}`);
      this.options.registry.update(network, { error: message });
    }
  }

  private timersOf(network: string): Timers {
    let timers = this.timers.get(network);
    if (!timers) {
      timers = {};
      this.timers.set(network, timers);
    }
    return timers;
  }

  private clearTimers(network: string): void {
    const timers = this.timers.get(network);
    if (!timers) return;
    clearTimeout(timers.enter);
    clearTimeout(timers.leave);
    clearTimeout(timers.idle);
    this.timers.delete(network);
  }
}
