import { createConnection, type Socket } from "node:net";
import { errorMessage } from "../shared/errors.js";

// Carries the waypipe sessions of one of a VM's virtio-serial ports (QEMU's unix socket server) to the host's
// `waypipe client`, which accepts one connection per forwarded app session. A VM has a port, and a bridge, per
// app it may show at once; each session is its own connection to waypipe client. A virtio-serial port is one byte
// stream with no end-of-session marker of its own, so the two sides agree on one session per host connection:
//
// - the bridge connects to QEMU's socket and waits for the guest's header line, which the guest writes with a
//   blocking write — that write is how the guest learns a host is connected at all;
// - everything after the header is waypipe's stream: only then does the bridge connect to `waypipe client`
//   (one connection, one session, one forked child of the client) and pipe both ways, with backpressure;
// - when either side closes, both are dropped. The guest reads EOF on its port once the host is gone, and
//   offers its next session with a new header on the bridge's next connection.
//
// The guest sees a disconnect only if it looks before the host is back, so the bridge leaves a gap between
// connections, and drops a connection on which no header came for a while: a guest that missed the end of a
// session notices the next drop. Stray bytes where a header belongs (the tail of an old session) fail the
// comparison, which drops the connection too; the guest then starts over.
//
// Everything the guest sends is untrusted: the header is compared byte for byte, and what follows is handed to
// waypipe, which parses it, never to a shell or a path.

export const WAYPIPE_SESSION_HEADER = "clan-waypipe 1\n";

export interface WaypipeBridgeOptions {
  network: string;
  /** Which of the VM's waypipe ports (org.clan.waypipe.<port>) this bridge carries; a VM has a bridge per port. */
  port: number;
  /** QEMU's chardev server for that port. */
  guestSocket: string;
  /** Where the host's `waypipe client` listens (its -s). */
  clientSocket: string;
  log: (message: string) => void;
  /** A session began (connected to waypipe client) or ended: the caller counts the VM's busy ports. */
  sessionChanged?: (carrying: boolean) => void;
  timing?: Partial<WaypipeBridgeTiming>;
}

export interface WaypipeBridgeTiming {
  /** Pause between one connection to the guest's port and the next, long enough for the guest to see the drop. */
  reconnectGapMs: number;
  /** After a failure the pause doubles, up to this. */
  maxRetryDelayMs: number;
  /** A connection on which the guest offered no session for this long is dropped and made again. */
  headerTimeoutMs: number;
  /** How long the guest may take from its header to the session's first bytes. */
  firstDataTimeoutMs: number;
}

const DEFAULT_TIMING: WaypipeBridgeTiming = {
  reconnectGapMs: 1000,
  maxRetryDelayMs: 10_000,
  headerTimeoutMs: 15_000,
  firstDataTimeoutMs: 30_000,
};

export class WaypipeBridge {
  private closed = false;
  private readonly sockets = new Set<Socket>();
  private readonly timing: WaypipeBridgeTiming;
  private wakeUp: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WaypipeBridgeOptions) {
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  /** Carries sessions until close(); never throws: every failure is logged and retried. */
  start(): void {
    void this.carrySessions();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.wakeUp?.();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private async carrySessions(): Promise<void> {
    const { network, port, log } = this.options;
    let failures = 0;
    while (!this.closed) {
      let delay = this.timing.reconnectGapMs;
      try {
        const outcome = await this.carryOneSession();
        if (outcome !== undefined && !this.closed) log(`${network}: waypipe session on port ${port} ended: ${outcome}`);
        failures = 0;
      } catch (error) {
        if (this.closed) return;
        failures += 1;
        delay = Math.min(delay * 2 ** failures, this.timing.maxRetryDelayMs);
        log(`${network}: waypipe bridge of port ${port}: ${errorMessage(error)}; connecting again in ${delay} ms`);
      }
      await this.pause(delay);
    }
  }

  /** One connection to the guest's port, one session. Resolves with why it ended, or undefined if none began. */
  private async carryOneSession(): Promise<string | undefined> {
    const guest = this.track(new Side("the VM's side", await connectUnix(this.options.guestSocket, "the VM's waypipe port")));
    try {
      const header = await readHeader(guest, this.timing.headerTimeoutMs);
      if (header === undefined) return undefined;
      if (header.toString("latin1") !== WAYPIPE_SESSION_HEADER) {
        // Hex: these bytes are the guest's, and a log line must not carry its control characters.
        throw new Error(`the guest sent 0x${header.toString("hex")} where a session header belongs`);
      }
      const { firstDataTimeoutMs } = this.timing;
      const data = await whenReadable(guest, "after the session header", firstDataTimeoutMs, () => guest.socket.readableLength || undefined);
      if (data === undefined) throw new Error(`the guest sent a session header but no waypipe data within ${firstDataTimeoutMs} ms`);
      const client = this.track(new Side("waypipe client", await connectUnix(this.options.clientSocket, "waypipe client")));
      this.options.log(`${this.options.network}: waypipe session on port ${this.options.port} began`);
      this.options.sessionChanged?.(true);
      try {
        return await pipeBothWays(guest, client);
      } finally {
        this.untrack(client);
        this.options.sessionChanged?.(false);
      }
    } finally {
      this.untrack(guest);
    }
  }

  private track(side: Side): Side {
    if (this.closed) {
      side.socket.destroy();
      throw new Error("the bridge was closed");
    }
    this.sockets.add(side.socket);
    return side;
  }

  private untrack(side: Side): void {
    side.socket.destroy();
    this.sockets.delete(side.socket);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.retryTimer = setTimeout(resolve, ms);
    });
  }
}

/** A connected socket of the bridge, and the error it failed with: for net sockets 'close' follows 'error'. */
class Side {
  private error: Error | undefined;

  constructor(
    readonly name: string,
    readonly socket: Socket,
  ) {
    socket.on("error", (error) => {
      this.error ??= error;
    });
  }

  get isClosed(): boolean {
    return this.socket.closed;
  }

  whyClosed(): string {
    return this.error ? `${this.name} failed: ${this.error.message}` : `${this.name} closed`;
  }
}

function connectUnix(path: string, what: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const onError = (error: Error) => reject(new Error(`cannot connect to ${what} at ${path}: ${error.message}`, { cause: error }));
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** The header's length of bytes, or undefined if none came within `timeoutMs`; what follows stays buffered. */
function readHeader(side: Side, timeoutMs: number): Promise<Buffer | undefined> {
  const length = Buffer.byteLength(WAYPIPE_SESSION_HEADER);
  return whenReadable(side, "before a session header", timeoutMs, () => {
    const chunk = side.socket.read(length) as Buffer | null;
    if (chunk === null) return undefined;
    if (chunk.length < length) throw new Error(`${side.name} closed after ${chunk.length} bytes of a session header`);
    return chunk;
  });
}

/**
 * Resolves with `probe`'s first defined result, re-run whenever the socket has buffered more, or with undefined
 * after `timeoutMs`; rejects when the socket ends or closes first. Leaves the socket paused, with what `probe`
 * did not read in its buffer.
 */
function whenReadable<T>(side: Side, when: string, timeoutMs: number, probe: () => T | undefined): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      resolve(undefined);
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      side.socket.off("readable", attempt);
      side.socket.off("close", attempt);
    };
    function attempt(): void {
      try {
        const value = probe();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (side.socket.readableEnded || side.isClosed) {
          throw new Error(`${side.whyClosed()} ${when}`);
        }
      } catch (error) {
        cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    side.socket.on("readable", attempt);
    side.socket.on("close", attempt);
    attempt();
  });
}

/**
 * Pipes guest → client and client → guest (pipe() pauses a source while its destination is full) until either
 * socket closes, and resolves with why.
 */
function pipeBothWays(guest: Side, client: Side): Promise<string> {
  return new Promise((resolve) => {
    const settle = () => {
      const closed = [guest, client].filter((side) => side.isClosed);
      if (closed.length > 0) resolve(closed.map((side) => side.whyClosed()).join("; "));
    };
    guest.socket.once("close", settle);
    client.socket.once("close", settle);
    guest.socket.pipe(client.socket);
    client.socket.pipe(guest.socket);
    settle();
  });
}
