import { EventEmitter } from "node:events";
import { ClanError, errorMessage } from "../shared/errors.js";
import type { VmFigures } from "../shared/monitoring-api.js";
import type { NetworkStatus } from "../shared/session-api.js";
import { figuresView, GRAPH_SECONDS, type FiguresView } from "./figures-presentation.js";
import { NetworkRead, type ReadResult } from "./network-read.js";

// The monitoring part of the window, without GTK: one figures watch at clan-sessiond (WatchFigures) while the
// window is shown, a network is selected and its VM runs — and none otherwise, so a hidden or minimised window
// makes clan-sessiond stop sampling. The samples of the last 60 s, and the console log, read when asked.

/** What monitoring needs of clan-sessiond (SessionClient has it). */
export interface MonitoringSession {
  watchFigures(name: string): Promise<string>;
  unwatchFigures(id: string): Promise<void>;
  onFiguresSampled(listener: (figures: VmFigures) => void, onInvalid: (error: Error) => void): () => void;
  consoleLog(name: string): Promise<string>;
}

export interface MonitoringView {
  /** The network whose figures are shown, undefined when none is (nothing selected, its VM not running). */
  network: string | undefined;
  watching: boolean;
  figures: FiguresView;
  console: ReadResult<string> | undefined;
}

export interface MonitoringModelEvents {
  changed: [];
}

/** Samples kept: a minute and a little, so the oldest rate of the graph has the sample before it. */
const KEPT_SAMPLES = GRAPH_SECONDS + 5;

interface Watch {
  session: MonitoringSession;
  network: string;
  id: Promise<string | undefined>;
}

/** The selected network, when its VM has figures to give (it runs or is paused). */
export function monitoredNetwork(networks: readonly NetworkStatus[], selected: string | undefined): string | undefined {
  const status = networks.find((network) => network.name === selected);
  return status && (status.vmState === "running" || status.vmState === "paused") ? status.name : undefined;
}

export class MonitoringModel extends EventEmitter<MonitoringModelEvents> {
  private session: MonitoringSession | undefined;
  private stopSamples: (() => void) | undefined;
  private network: string | undefined;
  private shown = false;
  private watch: Watch | undefined;
  private samples: VmFigures[] = [];
  private readonly console = new NetworkRead<string>((name) => this.requireSession().consoleLog(name), () => this.emit("changed"));

  constructor(private readonly report: (message: string) => void) {
    super();
  }

  /** The clan-sessiond on the bus now (undefined while none is). */
  follow(session: MonitoringSession | undefined): void {
    if (session === this.session) return;
    this.stopSamples?.();
    this.stopSamples = undefined;
    this.session = session;
    // A watch belonged to the clan-sessiond that is gone; it ended with it.
    this.watch = undefined;
    if (session) {
      this.stopSamples = session.onFiguresSampled(
        (figures) => this.sampled(figures),
        (error) => this.report(`ignoring a malformed FiguresSampled signal: ${error.message}`),
      );
    }
    this.reconcile();
  }

  /** The network whose VM the detail shows running (or paused); undefined when there is none. */
  showNetwork(network: string | undefined): void {
    if (network === this.network) return;
    this.network = network;
    this.samples = [];
    this.console.forget();
    this.reconcile();
    this.emit("changed");
  }

  /** Whether the window is mapped, not minimised, and shows the detail. */
  setShown(shown: boolean): void {
    if (shown === this.shown) return;
    this.shown = shown;
    this.reconcile();
  }

  refreshConsole(): void {
    if (this.network !== undefined && this.session) this.console.refresh(this.network);
  }

  view(): MonitoringView {
    return {
      network: this.network,
      watching: this.watch !== undefined,
      figures: figuresView(this.samples),
      console: this.network === undefined ? undefined : this.console.of(this.network),
    };
  }

  close(): void {
    this.shown = false;
    this.reconcile();
    this.stopSamples?.();
  }

  private reconcile(): void {
    const wanted = this.shown && this.session && this.network !== undefined ? { session: this.session, network: this.network } : undefined;
    if (this.watch && wanted && this.watch.session === wanted.session && this.watch.network === wanted.network) return;
    if (this.watch) this.endWatch(this.watch);
    this.watch = undefined;
    if (!wanted) return;
    const id = wanted.session.watchFigures(wanted.network).catch((error: unknown) => {
      this.report(`cannot watch the figures of ${wanted.network}: ${errorMessage(error)}`);
      return undefined;
    });
    this.watch = { ...wanted, id };
  }

  private endWatch(watch: Watch): void {
    void watch.id.then((id) => {
      if (id === undefined || watch.session !== this.session) return;
      watch.session.unwatchFigures(id).catch((error: unknown) => this.report(`cannot end the figures watch of ${watch.network}: ${errorMessage(error)}`));
    });
  }

  private sampled(figures: VmFigures): void {
    // FiguresSampled reaches every client that listens: another client's watches are not this window's.
    if (!this.watch || figures.network !== this.watch.network) return;
    this.samples.push(figures);
    if (this.samples.length > KEPT_SAMPLES) this.samples.splice(0, this.samples.length - KEPT_SAMPLES);
    this.emit("changed");
  }

  private requireSession(): MonitoringSession {
    if (!this.session) throw new ClanError("InvalidState", "clan-sessiond is not running");
    return this.session;
  }
}
