import { createConnection, type Socket } from "node:net";

// A Wayland wire client and message codec for tests that play a hostile client (or a stand-in compositor) against
// clan-wayland-filter: raw messages, no file descriptors, nothing of libwayland's checks in the way.

export interface WireMessage {
  object: number;
  opcode: number;
  /** The arguments, as the bytes after the 8-byte header. */
  body: Buffer;
}

export type WireArgument = { uint: number } | { string: string };

export function encodeMessage(object: number, opcode: number, args: WireArgument[] = []): Buffer {
  const parts = args.map((arg) => ("uint" in arg ? uint(arg.uint) : wireString(arg.string)));
  const body = Buffer.concat(parts);
  return Buffer.concat([uint(object), uint(((8 + body.length) << 16) | opcode), body]);
}

/** A header whose size field says `size`, whatever follows: for hostile input. */
export function rawHeader(object: number, opcode: number, size: number): Buffer {
  return Buffer.concat([uint(object), uint(((size & 0xffff) << 16) | opcode)]);
}

function uint(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0);
  return buffer;
}

function wireString(text: string): Buffer {
  const bytes = Buffer.from(`${text}\0`);
  const padded = Buffer.alloc(Math.ceil(bytes.length / 4) * 4);
  bytes.copy(padded);
  return Buffer.concat([uint(bytes.length), padded]);
}

/** Splits complete messages off the front of `buffer`; returns them and what is left. */
export function decodeMessages(buffer: Buffer): { messages: WireMessage[]; rest: Buffer } {
  const messages: WireMessage[] = [];
  let at = 0;
  while (buffer.length - at >= 8) {
    const size = buffer.readUInt32LE(at + 4) >>> 16;
    if (size < 8 || buffer.length - at < size) break;
    messages.push({ object: buffer.readUInt32LE(at), opcode: buffer.readUInt32LE(at + 4) & 0xffff, body: buffer.subarray(at + 8, at + size) });
    at += size;
  }
  return { messages, rest: buffer.subarray(at) };
}

/** A registry global event's or a bind request's (name, interface, version). */
export function readGlobal(body: Buffer): { name: number; interface: string; version: number } {
  const name = body.readUInt32LE(0);
  const length = body.readUInt32LE(4);
  const text = body.subarray(8, 8 + length - 1).toString();
  const version = body.readUInt32LE(8 + Math.ceil(length / 4) * 4);
  return { name, interface: text, version };
}

/** wl_display.error's (object, code, message). */
export function readDisplayError(body: Buffer): { object: number; code: number; message: string } {
  const length = body.readUInt32LE(8);
  return { object: body.readUInt32LE(0), code: body.readUInt32LE(4), message: body.subarray(12, 12 + length - 1).toString() };
}

/** A raw connection that collects every message it receives and knows when the peer has closed. */
export class WireConnection {
  readonly received: WireMessage[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private closedPromise: Promise<void>;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      const { messages, rest } = decodeMessages(Buffer.concat([this.pending, chunk]));
      this.received.push(...messages);
      this.pending = rest;
    });
    socket.on("error", () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on("close", () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static connect(path: string): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new WireConnection(socket));
      });
    });
  }

  static adopt(socket: Socket): WireConnection {
    return new WireConnection(socket);
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  close(): void {
    this.socket.destroy();
  }
}
