import { chmod, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { BarFormat } from "./bar-format.js";
import { MAX_HELLO_CHARS, parseHelloLine } from "./bar-hello.js";
import { ClickHandler, type BarActions } from "./click-handler.js";
import { ClickLineSplitter } from "./click-events.js";
import { barFormat } from "./formats.js";
import type { BarState } from "./model.js";

// clan-sessiond's bar socket (docs/bar.md): a bar's relay connects, sends one hello line naming its format, and
// from then on receives a status line whenever what it shows changes, and sends the bar's clicks. The relay
// writes the protocol's opening itself (the i3bar header, and an empty first status) because it outlives any one
// connection; every line sent here is framed as one that follows others. Nothing here runs on a timer: a line
// leaves when clan-sessiond publishes a change, so an idle bar and an idle daemon both sleep.
//
// The socket lives in a directory only this user may enter; the daemon keeps serving everything else whatever a
// client sends: a bad hello gets an error line and the connection is closed, a bad click is logged and skipped,
// a client that stops reading is dropped before its unread lines grow past MAX_UNREAD_BYTES.

/** More relays than any desktop has bars; beyond this a connection is refused, so a runaway loop cannot exhaust fds. */
const MAX_CONNECTIONS = 64;
/** A bar that reads nothing while this much of its output waits is stuck: it is dropped instead of buffered. */
const MAX_UNREAD_BYTES = 1024 * 1024;

export interface BarServerOptions {
  socketPath: string;
  /** What the bars show now. */
  state(): BarState;
  actions: BarActions;
  report(message: string): void;
}

export class BarServer {
  private readonly connections = new Set<BarConnection>();
  private clients = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: BarServerOptions,
  ) {
    server.on("connection", (socket) => this.accept(socket));
    server.on("error", (error) => options.report(`bar socket: ${error.message}`));
  }

  /**
   * Listens on `socketPath`, replacing a socket a clan-sessiond that is gone left behind. The caller owns the
   * bus name (so no other clan-sessiond is serving) and has made the directory private to this user.
   */
  static async listen(options: BarServerOptions): Promise<BarServer> {
    await rm(options.socketPath, { force: true });
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await chmod(options.socketPath, 0o600);
    return new BarServer(server, options);
  }

  /** Sends every connected bar its line for the current state, if that line changed. */
  publish(): void {
    const state = this.options.state();
    for (const connection of this.connections) connection.show(state);
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.options.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    const client = ++this.clients;
    const report = (message: string) => this.options.report(`bar client ${client}: ${message}`);
    if (this.connections.size >= MAX_CONNECTIONS) {
      report(`refused: already ${MAX_CONNECTIONS} bars connected`);
      socket.end(`clan-sessiond: refused: already ${MAX_CONNECTIONS} bars connected\n`, () => socket.destroy());
      return;
    }
    const connection = new BarConnection(socket, this.options, report);
    this.connections.add(connection);
    socket.on("close", () => this.connections.delete(connection));
  }
}

/** One relay: its hello, then its clicks in and its status lines out. */
class BarConnection {
  private format: BarFormat | undefined;
  private clicks: ClickHandler | undefined;
  private lastStatus: string | undefined;
  private refused = false;
  private readonly lines: ClickLineSplitter;

  constructor(
    readonly socket: Socket,
    private readonly options: BarServerOptions,
    private readonly report: (message: string) => void,
  ) {
    this.lines = new ClickLineSplitter(
      (line) => this.line(line),
      (length) =>
        this.clicks
          ? report(`ignoring a click line of ${length} characters: longer than any click event`)
          : this.refuse(`the hello line has more than ${MAX_HELLO_CHARS} characters`),
    );
    socket.setEncoding("utf8");
    // The server allows half-open connections: a relay whose bar gives it no clicks closes its sending half
    // after the hello, and its status lines still flow.
    socket.on("data", (chunk: string) => {
      if (!this.refused) this.lines.push(chunk);
    });
    socket.on("error", (error) => report(`connection failed: ${error.message}`));
  }

  show(state: BarState): void {
    if (!this.format || this.socket.destroyed) return;
    const status = this.format.render(state);
    if (status === this.lastStatus) return;
    if (this.socket.writableLength > MAX_UNREAD_BYTES) {
      this.report(`dropped: the bar has not read ${this.socket.writableLength} bytes of status lines`);
      this.socket.destroy();
      return;
    }
    this.lastStatus = status;
    this.socket.write(this.format.frame(status, false));
  }

  private line(line: string): void {
    if (this.clicks) {
      this.clicks.clickLine(line);
      return;
    }
    const hello = parseHelloLine(line);
    if (!hello.ok) {
      this.refuse(hello.reason);
      return;
    }
    const { format, network } = hello.hello;
    this.format = barFormat(format, network);
    this.report(`connected: ${format}${network === undefined ? "" : ` for ${network}`}`);
    this.show(this.options.state());
    this.clicks = new ClickHandler(this.options.actions, this.report);
  }

  /** A bad hello: the error line tells the client why, then the connection ends whatever the client does. */
  private refuse(reason: string): void {
    if (this.refused) return;
    this.refused = true;
    this.report(`refused: ${reason}`);
    this.socket.end(`clan-sessiond: ${reason}\n`, () => this.socket.destroy());
  }
}
