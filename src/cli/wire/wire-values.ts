import { ClanError } from "../../shared/errors.js";

// D-Bus's binary format (the specification's "Marshaling"), as much of it as clanctl's one-shot commands use:
// any value can be read, only strings and the header can be written. It exists so that `clanctl status` and
// `switch` answer without loading dbus-next and its XML parser (docs/benchmarks.md, "clanctl's startup").

/** A value as read: dictionaries become plain objects keyed by their string form, structs arrays. */
export type WireValue = string | number | bigint | boolean | WireVariant | WireValue[] | { [key: string]: WireValue };

export class WireVariant {
  constructor(
    readonly signature: string,
    readonly value: WireValue,
  ) {}
}

/** The specification's limit on a whole message. */
export const MAX_MESSAGE_BYTES = 2 ** 27;

function malformed(what: string): ClanError {
  return new ClanError("Protocol", `malformed D-Bus message: ${what}`);
}

/** The complete types a signature lists, in order: "sa{sv}(ii)" gives "s", "a{sv}", "(ii)". */
export function completeTypes(signature: string): string[] {
  const types: string[] = [];
  for (let start = 0; start < signature.length; ) {
    const end = completeTypeEnd(signature, start);
    types.push(signature.slice(start, end));
    start = end;
  }
  return types;
}

function completeTypeEnd(signature: string, start: number): number {
  const code = signature[start];
  if (code === "a") return completeTypeEnd(signature, start + 1);
  if (code !== "(" && code !== "{") {
    if (code === undefined || !"ybnqiuxtdsogvh".includes(code)) throw malformed(`bad signature ${JSON.stringify(signature)}`);
    return start + 1;
  }
  const close = code === "(" ? ")" : "}";
  let end = start + 1;
  while (signature[end] !== close) {
    if (end >= signature.length) throw malformed(`unclosed ${code} in signature ${JSON.stringify(signature)}`);
    end = completeTypeEnd(signature, end);
  }
  return end + 1;
}

function alignment(type: string): number {
  switch (type[0]) {
    case "y":
    case "g":
    case "v":
      return 1;
    case "n":
    case "q":
      return 2;
    case "x":
    case "t":
    case "d":
    case "(":
    case "{":
      return 8;
    default:
      return 4;
  }
}

/** Reads values from a message, in the byte order its first byte declared. */
export class WireReader {
  constructor(
    private readonly buffer: Buffer,
    private readonly littleEndian: boolean,
    public offset: number,
    /** Alignment counts from the message's start, not the buffer's. */
    private readonly origin: number = 0,
  ) {}

  readAll(signature: string): WireValue[] {
    return completeTypes(signature).map((type) => this.read(type));
  }

  read(type: string): WireValue {
    const code = type[0];
    switch (code) {
      case "y":
        return this.take(1, 1).readUInt8(0);
      case "b": {
        const value = this.uint32();
        if (value > 1) throw malformed(`boolean ${value}`);
        return value === 1;
      }
      case "n":
        return this.number(2, (b) => (this.littleEndian ? b.readInt16LE(0) : b.readInt16BE(0)));
      case "q":
        return this.number(2, (b) => (this.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0)));
      case "i":
        return this.number(4, (b) => (this.littleEndian ? b.readInt32LE(0) : b.readInt32BE(0)));
      case "u":
      case "h":
        return this.uint32();
      case "x":
        return this.number(8, (b) => (this.littleEndian ? b.readBigInt64LE(0) : b.readBigInt64BE(0)));
      case "t":
        return this.number(8, (b) => (this.littleEndian ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0)));
      case "d":
        return this.number(8, (b) => (this.littleEndian ? b.readDoubleLE(0) : b.readDoubleBE(0)));
      case "s":
      case "o":
        return this.text(this.uint32());
      case "g":
        return this.signature();
      case "v": {
        const signature = this.signature();
        if (completeTypes(signature).length !== 1) throw malformed(`variant of ${JSON.stringify(signature)}`);
        return new WireVariant(signature, this.read(signature));
      }
      case "a":
        return this.array(type.slice(1));
      case "(":
        this.align(8);
        return completeTypes(type.slice(1, -1)).map((field) => this.read(field));
      default:
        throw malformed(`unexpected type ${JSON.stringify(type)}`);
    }
  }

  align(to: number): void {
    const misalignment = (this.offset - this.origin) % to;
    if (misalignment !== 0) this.take(to - misalignment, 1);
  }

  private array(element: string): WireValue {
    const length = this.uint32();
    if (length > MAX_MESSAGE_BYTES) throw malformed(`array of ${length} bytes`);
    this.align(alignment(element));
    const end = this.offset + length;
    if (end > this.buffer.length) throw malformed("array past the message's end");
    if (element[0] === "{") {
      const [keyType, valueType] = completeTypes(element.slice(1, -1));
      if (!keyType || !valueType) throw malformed(`dictionary entry ${JSON.stringify(element)}`);
      const entries: [string, WireValue][] = [];
      while (this.offset < end) {
        this.align(8);
        entries.push([String(this.read(keyType)), this.read(valueType)]);
      }
      // fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
      return Object.fromEntries(entries);
    }
    const items: WireValue[] = [];
    while (this.offset < end) items.push(this.read(element));
    if (this.offset !== end) throw malformed("array elements overrun its length");
    return items;
  }

  private uint32(): number {
    return this.number(4, (b) => (this.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0)));
  }

  private number<T>(size: number, read: (bytes: Buffer) => T): T {
    return read(this.take(size, size));
  }

  private signature(): string {
    const length = this.take(1, 1).readUInt8(0);
    return this.text(length);
  }

  private text(length: number): string {
    const bytes = this.take(length + 1, 1);
    if (bytes[length] !== 0) throw malformed("string without its terminating nul");
    return bytes.toString("utf8", 0, length);
  }

  private take(size: number, alignTo: number): Buffer {
    if (alignTo > 1) this.align(alignTo);
    const end = this.offset + size;
    if (end > this.buffer.length) throw malformed("value past the message's end");
    const bytes = this.buffer.subarray(this.offset, end);
    this.offset = end;
    return bytes;
  }
}

/** Writes a little-endian message: the header's fields and string arguments are all a call needs. */
export class WireWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  byte(value: number): this {
    return this.push(Buffer.of(value));
  }

  uint32(value: number): this {
    this.align(4);
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value);
    return this.push(bytes);
  }

  string(value: string): this {
    const bytes = Buffer.from(value, "utf8");
    this.uint32(bytes.length);
    return this.push(Buffer.concat([bytes, Buffer.of(0)]));
  }

  signature(value: string): this {
    this.byte(Buffer.byteLength(value));
    return this.push(Buffer.from(`${value}\0`, "utf8"));
  }

  align(to: number): this {
    const misalignment = this.length % to;
    return misalignment === 0 ? this : this.push(Buffer.alloc(to - misalignment));
  }

  get size(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(bytes: Buffer): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }
}
