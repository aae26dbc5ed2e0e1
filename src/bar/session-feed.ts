import { EventEmitter } from "node:events";
import { errorMessage } from "../shared/errors.js";
import type { NetworkStatus } from "../shared/session-api.js";
import type { BarState } from "./model.js";

// The bar's view of clan-sessiond, fed only by what it pushes: the network list once when it appears (and again
// when NetworksChanged says the config changed which networks exist), then every NetworkChanged signal. When
// its bus name vanishes the state becomes "sessiond-missing" until the name appears again. Nothing polls.

/** What the feed needs of clan-sessiond: SessionClient, or a scripted stand-in in unit tests. */
export interface SessionLink {
  listNetworks(): Promise<NetworkStatus[]>;
  onNetworkChanged(listener: (status: NetworkStatus) => void, onInvalid: (error: Error) => void): () => void;
  onNetworksChanged(listener: (names: string[]) => void): () => void;
}

export interface SessionFeedOptions<Link extends SessionLink> {
  /** Follows clan-sessiond's bus name (watchName): `appeared` at once when it is already there. */
  watch(handlers: { appeared: () => Promise<void>; vanished: () => void }): Promise<void>;
  connect(): Promise<Link>;
  report(message: string): void;
}

export interface SessionFeedEvents {
  state: [BarState];
}

export class SessionFeed<Link extends SessionLink> extends EventEmitter<SessionFeedEvents> {
  private readonly networks = new Map<string, NetworkStatus>();
  private current: Link | undefined;
  /** Counts connections; a reply or signal that belongs to an earlier one is dropped. */
  private connection = 0;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly options: SessionFeedOptions<Link>) {
    super();
  }

  /** The connected clan-sessiond, for actions; undefined while it is not on the bus. */
  get session(): Link | undefined {
    return this.current;
  }

  get state(): BarState {
    if (!this.current) return { kind: "sessiond-missing" };
    return { kind: "networks", networks: [...this.networks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  /** Resolves once the first state is published: the networks, or that clan-sessiond is missing. */
  async start(): Promise<void> {
    await this.options.watch({ appeared: () => this.appeared(), vanished: () => this.vanished() });
    if (!this.current) this.publish();
  }

  close(): void {
    this.connection++;
    this.detach();
  }

  private async appeared(): Promise<void> {
    const connection = ++this.connection;
    this.detach();
    try {
      const session = await this.options.connect();
      if (connection !== this.connection) return;
      // Subscribed before the list is read, so that no change falls between the two.
      this.unsubscribe.push(
        session.onNetworkChanged(
          (status) => {
            if (connection !== this.connection) return;
            this.networks.set(status.name, status);
            this.publish();
          },
          (error) => this.options.report(`ignoring a malformed NetworkChanged signal: ${error.message}`),
        ),
        session.onNetworksChanged(() => void this.readList(session, connection).catch((error: unknown) => this.listFailed(error, connection))),
      );
      this.current = session;
      await this.readList(session, connection);
    } catch (error) {
      if (connection !== this.connection) return;
      this.options.report(`cannot follow clan-sessiond: ${errorMessage(error)}`);
      this.detach();
      this.publish();
    }
  }

  private vanished(): void {
    this.connection++;
    this.detach();
    this.publish();
  }

  private async readList(session: Link, connection: number): Promise<void> {
    const list = await session.listNetworks();
    // D-Bus delivers a peer's messages in order: signals received before this reply are older than it.
    if (connection !== this.connection) return;
    this.networks.clear();
    for (const status of list) this.networks.set(status.name, status);
    this.publish();
  }

  private listFailed(error: unknown, connection: number): void {
    if (connection !== this.connection) return;
    this.options.report(`cannot read clan-sessiond's networks, showing the last known: ${errorMessage(error)}`);
  }

  private detach(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.current = undefined;
    this.networks.clear();
  }

  private publish(): void {
    this.emit("state", this.state);
  }
}
