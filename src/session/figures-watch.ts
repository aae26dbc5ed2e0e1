import { randomUUID } from "node:crypto";
import { ClanError, errorMessage } from "../shared/errors.js";
import type { VmFigures } from "../shared/monitoring-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";

// Who watches which network's figures, and the one-a-second sampling that runs for a network only while
// someone does. A watch belongs to the bus name that asked for it: it ends when that client calls UnwatchFigures
// or leaves the bus, so a window that crashed costs nothing after it is gone. A sample that cannot be taken (the
// VM stopped, clan-vmd away) is published too, all figures -1 and the reason in `problems`, rather than dropped.

export const FIGURES_INTERVAL_MS = 1000;
/** Watches one client may hold: a window has one per shown network; more is a client gone wrong. */
const MAX_WATCHES_PER_CLIENT = 8;
const MAX_WATCHES = 64;

export interface FiguresWatchOptions {
  /** One sample, from clan-vmd; rejects when it cannot be taken. */
  measure: (network: string) => Promise<VmFigures>;
  publish: (figures: VmFigures) => void;
  now: () => number;
  every: (ms: number, run: () => void) => () => void;
  log: (message: string) => void;
}

interface Watch {
  network: string;
  owner: string;
}

interface Sampling {
  stop: () => void;
  /** A sample is being taken: the next tick is skipped rather than piling calls up on a slow VM. */
  busy: boolean;
}

export class FiguresWatch {
  private readonly watches = new Map<string, Watch>();
  private readonly sampling = new Map<string, Sampling>();

  constructor(private readonly options: FiguresWatchOptions) {}

  /** Starts streaming `network`'s figures for `owner` (a unique bus name); returns the watch's id. */
  watch(network: string, owner: string): string {
    const owned = [...this.watches.values()].filter((watch) => watch.owner === owner).length;
    if (owned >= MAX_WATCHES_PER_CLIENT) throw new ClanError("OverLimit", `a client may watch the figures of at most ${MAX_WATCHES_PER_CLIENT} networks at once`);
    if (this.watches.size >= MAX_WATCHES) throw new ClanError("OverLimit", `at most ${MAX_WATCHES} figure watches may run at once`);
    const id = randomUUID();
    this.watches.set(id, { network, owner });
    this.sample(network);
    return id;
  }

  /** Ends one watch; only the client that made it may end it. */
  unwatch(id: string, owner: string): void {
    const watch = this.watches.get(id);
    if (!watch || watch.owner !== owner) throw new ClanError("NotFound", `no figure watch ${JSON.stringify(id.slice(0, 64))} of this client`);
    this.watches.delete(id);
    this.settle(watch.network);
  }

  /** `owner` left the bus: its watches end. */
  ownerGone(owner: string): void {
    for (const [id, watch] of this.watches) {
      if (watch.owner !== owner) continue;
      this.watches.delete(id);
      this.settle(watch.network);
    }
  }

  /** The networks sampled now (for tests and the log). */
  sampledNetworks(): string[] {
    return [...this.sampling.keys()];
  }

  close(): void {
    for (const sampling of this.sampling.values()) sampling.stop();
    this.sampling.clear();
    this.watches.clear();
  }

  private sample(network: string): void {
    if (this.sampling.has(network)) return;
    const sampling: Sampling = { stop: () => undefined, busy: false };
    this.sampling.set(network, sampling);
    const tick = () => {
      if (sampling.busy) return;
      sampling.busy = true;
      this.options
        .measure(network)
        .catch((error: unknown) => this.unmeasured(network, error))
        .then((figures) => {
          sampling.busy = false;
          // A watch that ended while the sample was taken gets no more samples.
          if (this.sampling.get(network) === sampling) this.options.publish(figures);
        });
    };
    sampling.stop = this.options.every(FIGURES_INTERVAL_MS, tick);
    this.options.log(`${network}: sampling its figures each second while watched`);
    tick();
  }

  private settle(network: string): void {
    if ([...this.watches.values()].some((watch) => watch.network === network)) return;
    const sampling = this.sampling.get(network);
    if (!sampling) return;
    sampling.stop();
    this.sampling.delete(network);
    this.options.log(`${network}: no one watches its figures; sampling stopped`);
  }

  private unmeasured(network: string, error: unknown): VmFigures {
    const none = -1;
    return {
      network,
      sampledAt: this.options.now(),
      cpuSeconds: none,
      memoryBytes: none,
      balloonBytes: none,
      guestMemoryTotalBytes: none,
      guestMemoryUsedBytes: none,
      diskReadBytes: none,
      diskWriteBytes: none,
      netReceivedBytes: none,
      netSentBytes: none,
      problems: [terminalSafe(errorMessage(error), { maxChars: 300 })],
    };
  }
}
