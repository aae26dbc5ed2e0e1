import { connect, type Socket } from "node:net";
import { ClanError } from "../../shared/errors.js";
import { MAX_MESSAGE_BYTES, WireReader, WireWriter, type WireValue } from "./wire-values.js";

// One connection to the session bus for a command that makes a few calls and exits: EXTERNAL authentication,
// Hello, method calls and their replies. Signals and everything else the bus sends are ignored.

export interface MethodCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  args?: string[];
}

/** An error reply, with the error's D-Bus name (org.clan.Desktop.Error.UnknownNetwork, …) and its text. */
export class WireCallError extends Error {
  constructor(
    readonly errorName: string,
    text: string,
  ) {
    super(text);
    this.name = "WireCallError";
  }
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, signature: 8 } as const;
const BUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus" };

interface Pending {
  resolve: (body: WireValue[]) => void;
  reject: (error: Error) => void;
}

export class WireConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    address: string,
  ) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => this.fail(new ClanError("Disconnected", `session bus (${address}): ${error.message}`)));
    socket.on("close", () => this.fail(new ClanError("Disconnected", `session bus (${address}) closed the connection`)));
  }

  /** Connects to DBUS_SESSION_BUS_ADDRESS's first unix socket, authenticates and says Hello. */
  static async open(address = process.env.DBUS_SESSION_BUS_ADDRESS): Promise<WireConnection> {
    if (!address) throw new ClanError("Disconnected", "DBUS_SESSION_BUS_ADDRESS is not set: there is no session bus to talk on");
    const socket = await authenticate(unixSocketPath(address), address);
    const connection = new WireConnection(socket, address);
    await connection.call({ ...BUS, member: "Hello" });
    return connection;
  }

  call(call: MethodCall): Promise<WireValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    this.socket.write(methodCallMessage(call, serial));
    return new Promise((resolve, reject) => this.pending.set(serial, { resolve, reject }));
  }

  close(): void {
    this.failure ??= new ClanError("Disconnected", "the connection to the session bus was closed");
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      for (let length = messageLength(this.buffer); length !== undefined && length <= this.buffer.length; length = messageLength(this.buffer)) {
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        this.dispatch(message);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      this.socket.destroy();
    }
  }

  private dispatch(message: Buffer): void {
    const type = message[1];
    if (type !== METHOD_RETURN && type !== ERROR) return;
    const littleEndian = message[0] === 0x6c;
    const reader = new WireReader(message, littleEndian, 12);
    const fields = new Map((reader.read("a(yv)") as [number, { value: WireValue }][]).map(([code, variant]) => [code, variant.value]));
    const waiter = this.pending.get(Number(fields.get(FIELD.replySerial)));
    if (!waiter) return;
    this.pending.delete(Number(fields.get(FIELD.replySerial)));
    reader.align(8);
    const body = reader.readAll(String(fields.get(FIELD.signature) ?? ""));
    if (type === METHOD_RETURN) waiter.resolve(body);
    else waiter.reject(new WireCallError(String(fields.get(FIELD.errorName)), typeof body[0] === "string" ? body[0] : ""));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}

/** The whole message's length once its fixed header has arrived. */
function messageLength(buffer: Buffer): number | undefined {
  if (buffer.length < 16) return undefined;
  const littleEndian = buffer[0] === 0x6c;
  if (!littleEndian && buffer[0] !== 0x42) throw new ClanError("Protocol", "malformed D-Bus message: unknown byte order");
  const read = (offset: number) => (littleEndian ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset));
  const fieldsLength = read(12);
  const length = 16 + Math.ceil(fieldsLength / 8) * 8 + read(4);
  if (length > MAX_MESSAGE_BYTES) throw new ClanError("Protocol", `malformed D-Bus message: ${length} bytes`);
  return length;
}

function methodCallMessage(call: MethodCall, serial: number): Buffer {
  const args = call.args ?? [];
  const body = new WireWriter();
  for (const arg of args) body.string(arg);
  const header = new WireWriter().byte(0x6c).byte(METHOD_CALL).byte(0).byte(1).uint32(body.size).uint32(serial);
  const fields = new WireWriter();
  const field = (code: number, signature: string, write: (w: WireWriter) => void) => {
    fields.align(8).byte(code).signature(signature);
    write(fields);
  };
  field(FIELD.path, "o", (w) => w.string(call.path));
  field(FIELD.interface, "s", (w) => w.string(call.interface));
  field(FIELD.member, "s", (w) => w.string(call.member));
  field(FIELD.destination, "s", (w) => w.string(call.destination));
  if (args.length > 0) field(FIELD.signature, "g", (w) => w.signature("s".repeat(args.length)));
  // The fields' array starts at offset 16, already aligned for its structs, so its length is theirs alone.
  header.uint32(fields.size);
  const headerBytes = Buffer.concat([header.toBuffer(), fields.toBuffer()]);
  const padding = Buffer.alloc((8 - (headerBytes.length % 8)) % 8);
  return Buffer.concat([headerBytes, padding, body.toBuffer()]);
}

/** The path of the first unix: address (path= or abstract=) in a D-Bus address list. */
export function unixSocketPath(addressList: string): string {
  for (const address of addressList.split(";")) {
    const colon = address.indexOf(":");
    if (address.slice(0, colon) !== "unix") continue;
    const keys = new Map(
      address
        .slice(colon + 1)
        .split(",")
        .map((pair) => {
          const equals = pair.indexOf("=");
          return [pair.slice(0, equals), decodeURIComponent(pair.slice(equals + 1))] as const;
        }),
    );
    const path = keys.get("path");
    if (path) return path;
    const abstract = keys.get("abstract");
    if (abstract) return `\0${abstract}`;
  }
  throw new ClanError("Disconnected", `DBUS_SESSION_BUS_ADDRESS (${addressList}) names no unix socket, the only transport clanctl speaks`);
}

/** SASL EXTERNAL with this process's uid, then BEGIN: what dbus-daemon asks of a local client. */
function authenticate(path: string, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = "";
    const refuse = (why: string) => {
      socket.destroy();
      reject(new ClanError("Disconnected", `session bus (${address}): ${why}`));
    };
    socket.on("error", (error) => refuse(error.message));
    socket.on("close", () => refuse("closed the connection while authenticating"));
    socket.on("connect", () => {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString("hex");
      socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
    });
    const onData = (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      const end = answer.indexOf("\r\n");
      if (end < 0) return;
      if (!answer.startsWith("OK ")) return refuse(`refused authentication: ${answer.slice(0, end)}`);
      socket.removeAllListeners();
      socket.write("BEGIN\r\n");
      resolve(socket);
    };
    socket.on("data", onData);
  });
}
