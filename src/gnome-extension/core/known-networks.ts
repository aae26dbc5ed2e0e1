import { decodeNetworkStatus, type NetworkStatus } from "./network-status.js";

// The networks as the extension knows them, from clan-sessiond's two sources: NetworkChanged signals (one status
// each) and ListNetworks replies (all of them). They can arrive out of order: a reply that comes after a signal
// was answered before it, and must not put back the older status the signal replaced (seen once in a full run:
// a new network's shares missing from the menu for good).

/** One ListNetworks call, from when it is sent until its reply is applied or dropped. */
export interface PendingListing {
  /** The reply's entries replace the known networks, except those a NetworkChanged reported since the call. */
  apply(entries: readonly unknown[]): void;
  /** No reply to apply (the call failed, or the connection it belongs to ended). */
  drop(): void;
}

export class KnownNetworks {
  private readonly networks = new Map<string, NetworkStatus>();
  /** Per ListNetworks call in flight: the networks a NetworkChanged has reported since it was sent. */
  private readonly listsInFlight = new Set<Set<string>>();

  /** `invalid` hears of a listed entry that is not a network status; the others are still taken. */
  constructor(private readonly invalid: (error: unknown) => void) {}

  get all(): ReadonlyMap<string, NetworkStatus> {
    return this.networks;
  }

  /** A NetworkChanged's status; throws when it is not one. Returns the status it replaces. */
  changed(raw: unknown): { previous: NetworkStatus | undefined; next: NetworkStatus } {
    const next = decodeNetworkStatus(raw);
    const previous = this.networks.get(next.name);
    this.networks.set(next.name, next);
    for (const changedSince of this.listsInFlight) changedSince.add(next.name);
    return { previous, next };
  }

  /** Call when a ListNetworks call is sent. */
  listAsked(): PendingListing {
    const changedSince = new Set<string>();
    this.listsInFlight.add(changedSince);
    return {
      apply: (entries) => {
        this.listsInFlight.delete(changedSince);
        this.replace(entries, changedSince);
      },
      drop: () => this.listsInFlight.delete(changedSince),
    };
  }

  clear(): void {
    this.networks.clear();
  }

  private replace(entries: readonly unknown[], newerThanList: ReadonlySet<string>): void {
    const newer = new Map([...this.networks].filter(([name]) => newerThanList.has(name)));
    this.networks.clear();
    for (const raw of entries) {
      try {
        const status = decodeNetworkStatus(raw);
        this.networks.set(status.name, newer.get(status.name) ?? status);
      } catch (error) {
        this.invalid(error);
      }
    }
  }
}
