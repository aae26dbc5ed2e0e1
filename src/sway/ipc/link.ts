import { retryWithBackoff, type BackoffOptions } from "./backoff.js";
import { IpcConnection } from "./connection.js";
import { IpcClosedError } from "./errors.js";
import type { IpcFrame } from "./framing.js";
import type { SocketDiscovery } from "./socket-discovery.js";
import type { SocketAppearanceWatch } from "./socket-watch.js";

// Keeps one connection to the WM up: discovers the socket, connects, lets the owner prepare the connection
// (the event connection subscribes), and when the WM goes away, does it all again with backoff — rediscovering,
// because a restarted sway has a new socket path. A WM that stays away is not polled: after a few quick tries the
// link waits for a socket to appear in the directories the WM would put it in (inotify), then tries again.

/** Tries with backoff before waiting for a socket: with the default backoff, about 3 s (an i3 restart in place). */
const ATTEMPTS_BEFORE_WATCHING = 6;

export interface LinkOptions {
  discover: SocketDiscovery;
  connectTimeoutMs: number;
  maxPayloadBytes?: number | undefined;
  /** false: a lost connection stays lost. */
  reconnect: BackoffOptions | false;
  /** Where a returning WM's socket would appear; without it (or with nothing to watch) the tries never stop. */
  socketAppearances?: SocketAppearanceWatch | undefined;
}

export interface LinkOwner {
  onFrame(frame: IpcFrame): void;
  /**
   * Runs on every new connection before it counts as up; if it throws, the connection is dropped. `lost` aborts
   * (with the cause) when the connection drops or the link closes meanwhile: prepare must then reject.
   */
  prepare(connection: IpcConnection, lost: AbortSignal): Promise<void>;
  onUp(connection: IpcConnection, isReconnect: boolean): void;
  onDown(cause: Error, willReconnect: boolean): void;
  onReconnectAttemptFailed(error: Error, attempt: number, nextDelayMs: number): void;
}

export class Link {
  private connection: IpcConnection | undefined;
  private readonly stopped = new AbortController();
  private reconnecting = false;

  constructor(
    private readonly options: LinkOptions,
    private readonly owner: LinkOwner,
  ) {}

  get current(): IpcConnection | undefined {
    return this.connection;
  }

  /** True while the link is down but trying to come back. */
  get isReconnecting(): boolean {
    return this.reconnecting;
  }

  get isClosed(): boolean {
    return this.stopped.signal.aborted;
  }

  /** The first connection: fails at once with a typed error, so a misconfigured caller hears about it. */
  async open(): Promise<void> {
    const connection = await this.connectOnce();
    this.adopt(connection, false);
  }

  close(): void {
    if (this.isClosed) return;
    this.stopped.abort(new IpcClosedError("IPC link"));
    this.connection?.close();
    this.connection = undefined;
  }

  private async connectOnce(): Promise<IpcConnection> {
    const socketPath = await this.options.discover();
    // close() may come during any await here: checked after each, and while preparing the listener aborts it.
    this.stopped.signal.throwIfAborted();
    const preparing = new AbortController();
    const connection: IpcConnection = await IpcConnection.open(
      socketPath,
      { connectTimeoutMs: this.options.connectTimeoutMs, maxPayloadBytes: this.options.maxPayloadBytes },
      {
        onFrame: (frame) => this.owner.onFrame(frame),
        onLost: (cause) => (connection === this.connection ? this.lost(cause) : preparing.abort(cause)),
      },
    );
    const abortOnClose = (): void => preparing.abort(this.stopped.signal.reason);
    this.stopped.signal.addEventListener("abort", abortOnClose);
    try {
      this.stopped.signal.throwIfAborted();
      await this.owner.prepare(connection, preparing.signal);
    } catch (error) {
      connection.close();
      throw error;
    } finally {
      this.stopped.signal.removeEventListener("abort", abortOnClose);
    }
    return connection;
  }

  private adopt(connection: IpcConnection, isReconnect: boolean): void {
    if (this.isClosed) {
      connection.close();
      return;
    }
    this.connection = connection;
    this.owner.onUp(connection, isReconnect);
  }

  private lost(cause: Error): void {
    this.connection = undefined;
    const willReconnect = this.options.reconnect !== false && !this.isClosed;
    this.reconnecting = willReconnect;
    this.owner.onDown(cause, willReconnect);
    if (willReconnect && this.options.reconnect !== false) void this.reconnect(this.options.reconnect);
  }

  private async reconnect(backoff: BackoffOptions): Promise<void> {
    const signal = this.stopped.signal;
    // Watching from before the first try: a socket that appears during the tries starts another round at once.
    const appearances = new SocketAppearances(this.options.socketAppearances);
    try {
      for (;;) {
        appearances.forget();
        const connection = await retryWithBackoff(() => this.connectOnce(), {
          backoff,
          signal,
          maxAttempts: appearances.watching ? ATTEMPTS_BEFORE_WATCHING : undefined,
          onAttemptFailed: (error, attempt, nextDelayMs) => this.owner.onReconnectAttemptFailed(error, attempt, nextDelayMs),
        });
        if (connection !== undefined) {
          this.reconnecting = false;
          this.adopt(connection, true);
          return;
        }
        if (signal.aborted || !(await appearances.next(signal))) break;
      }
    } finally {
      appearances.close();
    }
    this.reconnecting = false;
  }
}

/** Whether a socket appeared since the last look, from a watch opened once per reconnection. */
class SocketAppearances {
  private appeared = false;
  private wake: (() => void) | undefined;
  private readonly watch: { close(): void } | undefined;

  constructor(start: SocketAppearanceWatch | undefined) {
    this.watch = start?.(() => {
      this.appeared = true;
      this.wake?.();
    });
  }

  get watching(): boolean {
    return this.watch !== undefined;
  }

  forget(): void {
    this.appeared = false;
  }

  /** Resolves true once a socket has appeared since forget(), false if `signal` aborts first. */
  async next(signal: AbortSignal): Promise<boolean> {
    if (!this.appeared && !signal.aborted) {
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.wake = onAbort = () => resolve();
        signal.addEventListener("abort", onAbort, { once: true });
      });
      signal.removeEventListener("abort", onAbort!);
      this.wake = undefined;
    }
    return !signal.aborted;
  }

  close(): void {
    this.watch?.close();
  }
}
