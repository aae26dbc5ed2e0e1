import type { NetworkStatus } from "../../src/shared/session-api.js";
import type { BarActions } from "../../src/bar/click-handler.js";
import type { SessionFeedOptions, SessionLink } from "../../src/bar/session-feed.js";

// A scripted stand-in for clan-sessiond as the bar's feed and runner see it (SessionLink and BarActions), and
// for the bus's name watch. The real daemon, bus and bars are in the bar-*.e2e.test.ts files; this fake exists to time
// replies and inject malformed signals, which the real daemon never sends.

export class ScriptedSession implements SessionLink, BarActions {
  readonly calls: string[] = [];
  /** Methods this "version" of clan-sessiond lacks: calling one fails as SessionClient does. */
  readonly missingMethods = new Set<string>();
  private changed = new Set<(status: NetworkStatus) => void>();
  private invalid = new Set<(error: Error) => void>();
  private listChanged = new Set<(names: string[]) => void>();
  /** When set, listNetworks waits for this promise before answering. */
  listGate: Promise<void> | undefined;

  constructor(public networks: NetworkStatus[]) {}

  async listNetworks(): Promise<NetworkStatus[]> {
    const snapshot = this.networks.map((n) => ({ ...n }));
    await this.listGate;
    return snapshot;
  }

  onNetworkChanged(listener: (status: NetworkStatus) => void, onInvalid: (error: Error) => void): () => void {
    this.changed.add(listener);
    this.invalid.add(onInvalid);
    return () => {
      this.changed.delete(listener);
      this.invalid.delete(onInvalid);
    };
  }

  onNetworksChanged(listener: (names: string[]) => void): () => void {
    this.listChanged.add(listener);
    return () => this.listChanged.delete(listener);
  }

  get listenerCount(): number {
    return this.changed.size + this.listChanged.size;
  }

  emitChanged(status: NetworkStatus): void {
    this.networks = this.networks.map((n) => (n.name === status.name ? status : n));
    for (const listener of this.changed) listener(status);
  }

  emitInvalid(message: string): void {
    for (const listener of this.invalid) listener(new Error(message));
  }

  emitNetworksChanged(networks: NetworkStatus[]): void {
    this.networks = networks;
    for (const listener of this.listChanged) listener(networks.map((n) => n.name));
  }

  switchTo(network: string): Promise<void> {
    return this.record("Switch", network);
  }

  async startRebuild(network: string): Promise<string> {
    await this.record("StartRebuild", network);
    return `rebuild-${network}-1`;
  }

  async startRollback(network: string, to?: number): Promise<string> {
    await this.record("StartRollback", network, to);
    return `rollback-${network}-1`;
  }

  openManager(): Promise<void> {
    return this.record("OpenManager");
  }

  private async record(method: string, ...args: unknown[]): Promise<void> {
    if (this.missingMethods.has(method)) throw new Error(`clan-sessiond does not offer ${method}: is it an older version?`);
    this.calls.push(`${method}(${args.map((a) => JSON.stringify(a)).join(", ")})`);
  }
}

/** The bus name watch, driven by the test: `appear` and `vanish` as NameOwnerChanged would. */
export class ScriptedNameWatch {
  private handlers: { appeared: () => Promise<void>; vanished: () => void } | undefined;

  constructor(private present: boolean) {}

  watch: SessionFeedOptions<ScriptedSession>["watch"] = async (handlers) => {
    this.handlers = handlers;
    if (this.present) await handlers.appeared();
  };

  appear(): Promise<void> {
    this.present = true;
    return this.handlers!.appeared();
  }

  vanish(): void {
    this.present = false;
    this.handlers!.vanished();
  }
}
