import { createConnection, type Socket } from "node:net";
import { IpcConnectFailedError, IpcConnectionLostError, IpcTimeoutError } from "./errors.js";
import { FrameDecoder, encodeFrame, type IpcFrame } from "./framing.js";

// One framed socket to the WM: bytes in, frames out. It knows nothing of requests or events; its owner does.

const CONNECT_RETRY_MS = 10;

export interface ConnectionHandlers {
  onFrame(frame: IpcFrame): void;
  /** Called once when the connection ends for any reason other than close(): the WM exited, or a framing error. */
  onLost(cause: Error): void;
}

export interface ConnectionOptions {
  connectTimeoutMs: number;
  maxPayloadBytes?: number;
}

export class IpcConnection {
  private ended = false;

  private constructor(
    readonly socketPath: string,
    private readonly socket: Socket,
    private readonly decoder: FrameDecoder,
    private readonly handlers: ConnectionHandlers,
  ) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const writeFailed = error.syscall === "write";
      this.lose(new IpcConnectionLostError(`IPC socket ${socketPath} failed: ${error.message}`, { cause: error, writeFailed }));
    });
    socket.on("close", () => this.lose(new IpcConnectionLostError(`IPC socket ${socketPath} was closed by the window manager`)));
  }

  /**
   * Connects within `connectTimeoutMs`. EAGAIN (the WM's accept queue is full: sway's holds 3 while it is busy
   * starting up) is retried until then; any other error fails at once.
   */
  static open(socketPath: string, options: ConnectionOptions, handlers: ConnectionHandlers): Promise<IpcConnection> {
    return new Promise((resolve, reject) => {
      let socket: Socket | undefined;
      let retryTimer: NodeJS.Timeout | undefined;
      const fail = (cause: Error): void => {
        clearTimeout(deadline);
        clearTimeout(retryTimer);
        socket?.destroy();
        reject(new IpcConnectFailedError(socketPath, { cause }));
      };
      const deadline = setTimeout(() => fail(new IpcTimeoutError(`connecting to ${socketPath}`, options.connectTimeoutMs)), options.connectTimeoutMs);
      const attempt = (): void => {
        const candidate = createConnection(socketPath);
        socket = candidate;
        candidate.once("error", (error: NodeJS.ErrnoException) => {
          if (error.code !== "EAGAIN") return fail(error);
          candidate.destroy();
          retryTimer = setTimeout(attempt, CONNECT_RETRY_MS);
        });
        candidate.once("connect", () => {
          clearTimeout(deadline);
          candidate.removeAllListeners("error");
          const decoder = new FrameDecoder(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes });
          resolve(new IpcConnection(socketPath, candidate, decoder, handlers));
        });
      };
      attempt();
    });
  }

  send(type: number, payload: string): void {
    this.socket.write(encodeFrame(type, payload));
  }

  /** Ends the connection without calling onLost: the owner asked for it. */
  close(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let frames: IpcFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.lose(error as Error);
      return;
    }
    for (const frame of frames) {
      if (this.ended) return;
      this.handlers.onFrame(frame);
    }
  }

  /** Drops the connection because the stream cannot go on (a framing or protocol error, or the peer went away). */
  lose(cause: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.handlers.onLost(cause);
  }
}
