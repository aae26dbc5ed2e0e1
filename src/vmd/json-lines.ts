import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { ClanError } from "../shared/errors.js";
import { JsonLineDecoder } from "./json-line-decoder.js";

// Newline-delimited JSON over a unix socket: the framing of QMP, the guest agent and our control port.
// The peer may be a guest: JsonLineDecoder bounds what it may make us buffer.

export interface JsonLineEvents {
  message: [unknown];
  /** A line that was not JSON or was too long: the connection stays usable, the line is dropped. */
  invalid: [string];
  close: [];
}

export class JsonLineConnection extends EventEmitter<JsonLineEvents> {
  private readonly decoder: JsonLineDecoder;
  closed = false;

  private constructor(
    private readonly socket: Socket,
    maxLineBytes: number,
  ) {
    super();
    this.decoder = new JsonLineDecoder(maxLineBytes);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.emit("close");
    });
    socket.on("error", () => {
      // 'close' follows every 'error' and is where callers learn that the connection is gone.
    });
  }

  static open(path: string, options: { maxLineBytes: number; timeoutMs: number }): Promise<JsonLineConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ClanError("Timeout", `no connection to ${path} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new JsonLineConnection(socket, options.maxLineBytes));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(new ClanError("Disconnected", `cannot connect to ${path}: ${error.message}`, { cause: error }));
      });
    });
  }

  send(value: unknown): void {
    if (this.closed) throw new ClanError("Disconnected", "connection is closed");
    this.socket.write(`${JSON.stringify(value)}\n`);
  }

  /** Raw bytes, for the guest agent's 0xFF resynchronisation marker. */
  sendRaw(data: Buffer): void {
    if (this.closed) throw new ClanError("Disconnected", "connection is closed");
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const line of this.decoder.push(chunk)) {
      if (line.kind === "message") this.emit("message", line.value);
      else this.emit("invalid", line.why);
    }
  }
}
