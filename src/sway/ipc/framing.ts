import { endianness } from "node:os";
import { IpcBadMagicError, IpcFrameTooLargeError } from "./errors.js";

// The i3 IPC frame, shared by sway: "i3-ipc" | u32 payload length | u32 message type | payload (JSON).
// Both integers are in the byte order of the machine the WM runs on, which is ours: the socket is local.

export const IPC_MAGIC = Buffer.from("i3-ipc", "ascii");
export const IPC_HEADER_BYTES = IPC_MAGIC.length + 4 + 4;

/** Set in the type of every event frame; replies never have it. */
export const IPC_EVENT_BIT = 0x8000_0000;

/** GET_TREE of a busy session is a few MiB; anything near this limit is a broken or hostile peer. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export type ByteOrder = "LE" | "BE";
export const NATIVE_BYTE_ORDER: ByteOrder = endianness();

export interface IpcFrame {
  /** Events carry IPC_EVENT_BIT on the wire; `type` has it removed so it matches the event numbers. */
  readonly isEvent: boolean;
  readonly type: number;
  readonly payload: Buffer;
}

export function encodeFrame(type: number, payload: string | Buffer = "", byteOrder: ByteOrder = NATIVE_BYTE_ORDER): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const header = Buffer.alloc(IPC_HEADER_BYTES);
  IPC_MAGIC.copy(header, 0);
  writeUint32(header, body.length, IPC_MAGIC.length, byteOrder);
  writeUint32(header, type >>> 0, IPC_MAGIC.length + 4, byteOrder);
  return Buffer.concat([header, body]);
}

export interface FrameDecoderOptions {
  maxPayloadBytes?: number;
  byteOrder?: ByteOrder;
}

/**
 * Turns a byte stream into frames, whatever the chunking: a frame split at any byte, or many frames in one chunk.
 * After a framing error the stream has lost sync for good, so the decoder keeps throwing that error.
 */
export class FrameDecoder {
  private readonly maxPayloadBytes: number;
  private readonly byteOrder: ByteOrder;
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private pendingHeader: { payloadBytes: number; rawType: number } | undefined;
  private failure: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.byteOrder = options.byteOrder ?? NATIVE_BYTE_ORDER;
  }

  /** Bytes received but not yet returned as part of a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes + (this.pendingHeader === undefined ? 0 : IPC_HEADER_BYTES);
  }

  push(chunk: Buffer): IpcFrame[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const frames: IpcFrame[] = [];
    try {
      for (;;) {
        if (this.pendingHeader === undefined) {
          if (this.bufferedBytes < IPC_HEADER_BYTES) break;
          this.pendingHeader = this.parseHeader(this.take(IPC_HEADER_BYTES));
        }
        const { payloadBytes, rawType } = this.pendingHeader;
        if (this.bufferedBytes < payloadBytes) break;
        const payload = this.take(payloadBytes);
        this.pendingHeader = undefined;
        const isEvent = (rawType & IPC_EVENT_BIT) !== 0;
        frames.push({ isEvent, type: isEvent ? (rawType & ~IPC_EVENT_BIT) >>> 0 : rawType, payload });
      }
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
    return frames;
  }

  private parseHeader(header: Buffer): { payloadBytes: number; rawType: number } {
    if (!header.subarray(0, IPC_MAGIC.length).equals(IPC_MAGIC)) throw new IpcBadMagicError(header);
    const payloadBytes = readUint32(header, IPC_MAGIC.length, this.byteOrder);
    if (payloadBytes > this.maxPayloadBytes) throw new IpcFrameTooLargeError(payloadBytes, this.maxPayloadBytes);
    return { payloadBytes, rawType: readUint32(header, IPC_MAGIC.length + 4, this.byteOrder) };
  }

  /** Removes the first `count` buffered bytes; copies only when they span chunks. */
  private take(count: number): Buffer {
    this.bufferedBytes -= count;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= count) {
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new Error("FrameDecoder.take: fewer bytes buffered than counted");
      const used = Math.min(chunk.length, count - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

function writeUint32(buffer: Buffer, value: number, offset: number, byteOrder: ByteOrder): void {
  if (byteOrder === "LE") buffer.writeUInt32LE(value, offset);
  else buffer.writeUInt32BE(value, offset);
}

function readUint32(buffer: Buffer, offset: number, byteOrder: ByteOrder): number {
  return byteOrder === "LE" ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
}
