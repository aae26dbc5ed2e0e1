import { describe, expect, it } from "vitest";
import { IpcBadMagicError, IpcFrameTooLargeError } from "../../src/sway/ipc/errors.js";
import {
  FrameDecoder,
  IPC_EVENT_BIT,
  IPC_HEADER_BYTES,
  NATIVE_BYTE_ORDER,
  encodeFrame,
  type ByteOrder,
  type IpcFrame,
} from "../../src/sway/ipc/framing.js";

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): IpcFrame[] {
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

function bytewise(buffer: Buffer): Buffer[] {
  return [...buffer].map((byte) => Buffer.from([byte]));
}

function summary(frame: IpcFrame): [boolean, number, string] {
  return [frame.isEvent, frame.type, frame.payload.toString("utf8")];
}

describe("encodeFrame", () => {
  it("writes magic, length and type in the machine's byte order, then the UTF-8 payload", () => {
    const frame = encodeFrame(7, "ü");
    expect(frame.subarray(0, 6).toString("ascii")).toBe("i3-ipc");
    const read = NATIVE_BYTE_ORDER === "LE" ? frame.readUInt32LE.bind(frame) : frame.readUInt32BE.bind(frame);
    expect(read(6)).toBe(2);
    expect(read(10)).toBe(7);
    expect(frame.subarray(IPC_HEADER_BYTES).toString("utf8")).toBe("ü");
  });

  it("writes the header big-endian when asked (a big-endian machine's WM)", () => {
    const frame = encodeFrame(0x0102, "", "BE");
    expect([...frame.subarray(6)]).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
  });
});

describe("FrameDecoder", () => {
  const frames = [encodeFrame(0, '[{"success":true}]'), encodeFrame(IPC_EVENT_BIT | 3, '{"change":"new"}'), encodeFrame(4, "")];
  const expected = [
    [false, 0, '[{"success":true}]'],
    [true, 3, '{"change":"new"}'],
    [false, 4, ""],
  ];

  it("decodes several frames arriving in one chunk", () => {
    expect(decodeAll(new FrameDecoder(), [Buffer.concat(frames)]).map(summary)).toEqual(expected);
  });

  it("decodes frames fed one byte at a time", () => {
    expect(decodeAll(new FrameDecoder(), bytewise(Buffer.concat(frames))).map(summary)).toEqual(expected);
  });

  it("decodes whatever the split point of a stream", () => {
    const stream = Buffer.concat(frames);
    for (let split = 0; split <= stream.length; split++) {
      const decoded = decodeAll(new FrameDecoder(), [stream.subarray(0, split), stream.subarray(split)]);
      expect(decoded.map(summary)).toEqual(expected);
    }
  });

  it("keeps a partial frame until the rest arrives", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(1, "[]");
    expect(decoder.push(frame.subarray(0, 10))).toEqual([]);
    expect(decoder.pendingBytes).toBe(10);
    expect(decoder.push(frame.subarray(10, IPC_HEADER_BYTES + 1))).toEqual([]);
    expect(decoder.pendingBytes).toBe(IPC_HEADER_BYTES + 1);
    expect(decoder.push(frame.subarray(IPC_HEADER_BYTES + 1)).map(summary)).toEqual([[false, 1, "[]"]]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it("keeps a multi-byte UTF-8 character split across chunks intact", () => {
    const frame = encodeFrame(2, '"😀"');
    const decoded = decodeAll(new FrameDecoder(), [frame.subarray(0, IPC_HEADER_BYTES + 2), frame.subarray(IPC_HEADER_BYTES + 2)]);
    expect(decoded.map(summary)).toEqual([[false, 2, '"😀"']]);
  });

  it("strips the event bit from event types", () => {
    const [frame] = new FrameDecoder().push(encodeFrame(IPC_EVENT_BIT | 7, "{}"));
    expect(frame).toMatchObject({ isEvent: true, type: 7 });
  });

  it.each<ByteOrder>(["LE", "BE"])("round-trips in %s byte order", (byteOrder) => {
    const decoder = new FrameDecoder({ byteOrder });
    expect(decoder.push(encodeFrame(IPC_EVENT_BIT | 0, "{}", byteOrder)).map(summary)).toEqual([[true, 0, "{}"]]);
  });

  it("rejects a payload larger than the limit as soon as the header is in", () => {
    const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
    const header = encodeFrame(4, "x".repeat(17)).subarray(0, IPC_HEADER_BYTES);
    expect(() => decoder.push(header)).toThrow(IpcFrameTooLargeError);
    expect(decoder.push.bind(decoder, Buffer.alloc(0))).toThrow(IpcFrameTooLargeError);
  });

  it("accepts a payload of exactly the limit", () => {
    const decoder = new FrameDecoder({ maxPayloadBytes: 16 });
    expect(decoder.push(encodeFrame(4, "x".repeat(16)))).toHaveLength(1);
  });

  it("limits payloads to 64 MiB by default", () => {
    const header = Buffer.from(encodeFrame(4, "").subarray(0, IPC_HEADER_BYTES));
    if (NATIVE_BYTE_ORDER === "LE") header.writeUInt32LE(64 * 1024 * 1024 + 1, 6);
    else header.writeUInt32BE(64 * 1024 * 1024 + 1, 6);
    const error = (() => {
      try {
        new FrameDecoder().push(header);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(IpcFrameTooLargeError);
    expect(error).toMatchObject({ code: "FRAME_TOO_LARGE", payloadBytes: 64 * 1024 * 1024 + 1 });
  });

  it("rejects bytes that are not an i3 IPC frame, and stays failed", () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(Buffer.from("HTTP/1.1 200 OK\r\n"))).toThrow(IpcBadMagicError);
    expect(() => decoder.push(encodeFrame(0, "[]"))).toThrow(IpcBadMagicError);
  });
});
