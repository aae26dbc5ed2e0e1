import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameDecoder, IPC_EVENT_BIT, encodeFrame } from "../../src/sway/ipc/framing.js";

// A FAKE window manager: a unix socket that speaks i3 IPC framing and answers as each test scripts it. It exists
// for what a real sway or i3 will not do on demand (reply out of turn, send a malformed event, flood events);
// everything a real WM does is tested against the real one in the *.e2e.test.ts files.

export interface FakeRequest {
  readonly type: number;
  readonly payload: string;
  readonly connection: Socket;
}

/** Returns the reply payload (sent with the request's type), or undefined to stay silent. */
export type FakeResponder = (request: FakeRequest) => string | undefined;

export class FakeWmServer {
  readonly requests: FakeRequest[] = [];
  readonly connections = new Set<Socket>();
  respond: FakeResponder = () => "{}";
  private server: Server | undefined;

  private constructor(
    private readonly dir: string,
    readonly socketPath: string,
  ) {}

  static async start(): Promise<FakeWmServer> {
    const dir = await mkdtemp(join(tmpdir(), "clan-fake-wm-"));
    const fake = new FakeWmServer(dir, join(dir, "ipc.sock"));
    await fake.listen();
    return fake;
  }

  async listen(): Promise<void> {
    const server = createServer((connection) => this.accept(connection));
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
    this.server = server;
  }

  /** Closes the listening socket and every connection, as a WM that exits does. */
  async shutDown(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.shutDown();
    await rm(this.dir, { recursive: true, force: true });
  }

  sendEvent(connection: Socket, type: number, payload: string): void {
    connection.write(encodeFrame(IPC_EVENT_BIT | type, payload));
  }

  sendRaw(connection: Socket, bytes: Buffer): void {
    connection.write(bytes);
  }

  private accept(connection: Socket): void {
    this.connections.add(connection);
    connection.on("close", () => this.connections.delete(connection));
    const decoder = new FrameDecoder();
    connection.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const request = { type: frame.type, payload: frame.payload.toString("utf8"), connection };
        this.requests.push(request);
        const reply = this.respond(request);
        if (reply !== undefined) connection.write(encodeFrame(frame.type, reply));
      }
    });
  }
}
