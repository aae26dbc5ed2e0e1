import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { ClanError } from "../shared/errors.js";

// Newline-delimited JSON over a unix socket: the framing of QMP, the guest agent and our control port.
// The peer may be a guest, so a line longer than the limit is an error, never an unbounded buffer.

export interface JsonLineEvents {
  message: [unknown];
  /** A line that was not JSON or was too long: the connection stays usable, the line is dropped. */
  invalid: [string];
  close: [];
}

export class JsonLineConnection extends EventEmitter<JsonLineEvents> {
  private buffered = "";
  private discardingOversizedLine = false;
  closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly maxLineBytes: number,
  ) {
    super();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
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

  private receive(chunk: string): void {
    let rest = chunk;
    for (;;) {
      const newline = rest.indexOf("\n");
      if (newline < 0) break;
      const tail = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (this.discardingOversizedLine) {
        this.discardingOversizedLine = false;
        this.buffered = "";
        continue;
      }
      const line = this.buffered + tail;
      this.buffered = "";
      this.handleLine(line);
    }
    if (this.discardingOversizedLine) return;
    this.buffered += rest;
    if (Buffer.byteLength(this.buffered) > this.maxLineBytes) {
      this.emit("invalid", `line longer than ${this.maxLineBytes} bytes dropped`);
      this.buffered = "";
      this.discardingOversizedLine = true;
    }
  }

  private handleLine(rawLine: string): void {
    // The guest agent prefixes synchronised replies with 0xFF, which arrives as U+FFFD in UTF-8 decoding.
    const line = rawLine.replace(/^[\uFFFD\xFF]+/, "").trim();
    if (line === "") return;
    if (Buffer.byteLength(line) > this.maxLineBytes) {
      this.emit("invalid", `line longer than ${this.maxLineBytes} bytes dropped`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.emit("invalid", `not JSON: ${line.slice(0, 80)}`);
      return;
    }
    this.emit("message", value);
  }
}
