import { connect, type Socket } from "node:net";
import { inflateSync } from "node:zlib";

// The other side of QEMU's clipboard for tests whose guest has no clipboard agent: a VNC client on QEMU's own VNC
// server (`-vnc unix:PATH`) that speaks the extended clipboard (RFB's 0xc0a1e5ce pseudo-encoding). QEMU's
// clipboard core then has it as a peer, as it would have a guest's vdagent: what it sets is what a guest copied,
// and what QEMU announces to it is what a guest could paste.

const CLIPBOARD_EXT_ENCODING = 0xc0a1e5ce | 0;
const RAW_ENCODING = 0;
const TEXT = 1 << 0;
const CAPS = 1 << 24;
const REQUEST = 1 << 25;
const NOTIFY = 1 << 27;
const PROVIDE = 1 << 28;
const SERVER_CUT_TEXT = 3;
const CLIENT_CUT_TEXT = 6;

export interface ClipboardEvent {
  kind: "caps" | "notify" | "provide" | "request" | "plain" | "broken";
  text?: string;
}

export class VncClipboardPeer {
  /** Everything QEMU sent, in order. */
  readonly events: ClipboardEvent[] = [];
  private buffer = Buffer.alloc(0);
  private waiters: { need: number; resolve: (bytes: Buffer) => void }[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.feed();
    });
  }

  /** Connects, does the RFB 3.8 handshake without authentication, and asks for the extended clipboard. */
  static async connect(path: string): Promise<VncClipboardPeer> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const peer = new VncClipboardPeer(socket);
    const version = await peer.read(12);
    if (!version.toString("latin1").startsWith("RFB 003.008")) throw new Error(`not an RFB 3.8 server: ${JSON.stringify(version.toString("latin1"))}`);
    socket.write("RFB 003.008\n");
    const types = await peer.read((await peer.read(1))[0]!);
    if (!types.includes(1)) throw new Error(`the VNC server wants authentication (types ${[...types].join(",")})`);
    socket.write(Buffer.from([1]));
    if ((await peer.read(4)).readUInt32BE(0) !== 0) throw new Error("the VNC server refused the connection");
    socket.write(Buffer.from([1]));
    const init = await peer.read(24);
    await peer.read(init.readUInt32BE(20));
    const encodings = Buffer.alloc(4 + 8);
    encodings.writeUInt8(2, 0);
    encodings.writeUInt16BE(2, 2);
    encodings.writeInt32BE(RAW_ENCODING, 4);
    encodings.writeInt32BE(CLIPBOARD_EXT_ENCODING, 8);
    socket.write(encodings);
    // A message this client does not understand ends its reading; the event says why.
    peer.readMessages().catch((error: unknown) => peer.push({ kind: "broken", text: error instanceof Error ? error.message : String(error) }));
    await peer.next((event) => event.kind === "caps", "QEMU's clipboard capabilities");
    return peer;
  }

  /**
   * Takes the clipboard as a guest that copied `text` would, the bytes as they are (a plain client cut text: QEMU
   * has the data at once; QEMU 7.2's D-Bus side never completes a request that must first ask a peer without serials).
   */
  copy(text: Buffer): void {
    const header = Buffer.alloc(8);
    header.writeUInt8(CLIENT_CUT_TEXT, 0);
    header.writeUInt32BE(text.length, 4);
    this.socket.write(Buffer.concat([header, text]));
  }

  /** Asks QEMU for the clipboard's text, as a guest pasting would; the answer arrives as a "provide" event. */
  requestText(): void {
    const message = Buffer.alloc(12);
    message.writeUInt8(CLIENT_CUT_TEXT, 0);
    message.writeInt32BE(-4, 4);
    message.writeUInt32BE((REQUEST | TEXT) >>> 0, 8);
    this.socket.write(message);
  }

  /** Resolves with the first event from `from` on (an index into `events`) that `matches`; fails after `timeoutMs`. */
  next(matches: (event: ClipboardEvent) => boolean, what: string, from = 0, timeoutMs = 20_000): Promise<ClipboardEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(matches);
        if (!found) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`no ${what} from QEMU's VNC clipboard within ${timeoutMs} ms; saw ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private async readMessages(): Promise<void> {
    for (;;) {
      const type = (await this.read(1))[0]!;
      if (type !== SERVER_CUT_TEXT) throw new Error(`unexpected VNC message type ${type}: the test never asks for frames`);
      const header = await this.read(7);
      const length = header.readInt32BE(3);
      if (length >= 0) {
        this.push({ kind: "plain", text: (await this.read(length)).toString("utf8") });
        continue;
      }
      const body = await this.read(-length);
      const flags = body.readUInt32BE(0);
      if (flags & CAPS) this.push({ kind: "caps" });
      else if (flags & PROVIDE) {
        const data = inflateSync(body.subarray(4));
        this.push({ kind: "provide", text: data.subarray(4, 4 + data.readUInt32BE(0)).toString("utf8") });
      } else if (flags & NOTIFY) this.push({ kind: "notify" });
      else if (flags & REQUEST) this.push({ kind: "request" });
    }
  }

  private push(event: ClipboardEvent): void {
    this.events.push(event);
    for (const listener of [...this.listeners]) listener();
  }

  private read(need: number): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiters.push({ need, resolve });
      this.feed();
    });
  }

  private feed(): void {
    while (this.waiters.length > 0 && this.buffer.length >= this.waiters[0]!.need) {
      const { need, resolve } = this.waiters.shift()!;
      const bytes = this.buffer.subarray(0, need);
      this.buffer = this.buffer.subarray(need);
      resolve(bytes);
    }
  }
}
