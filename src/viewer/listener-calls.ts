import type { Gi } from "./gi.js";
import type { SharedFrame } from "./shared-screen.js";

// The viewer's org.qemu.Display1.Listener, as QEMU calls it over their peer-to-peer connection. node-gtk cannot
// make the GClosures register_object needs, so a message filter hands every incoming call here and sends the reply
// this returns. Only the listed methods with their exact signatures are served, on the listener's path; the
// Properties interface answers exactly the one property QEMU ≥ 9.2 reads to learn that it may share the
// framebuffer (Interfaces, naming Unix.Map).

const LISTENER_PATH = "/org/qemu/Display1/Listener";
const LISTENER = "org.qemu.Display1.Listener";
const UNIX_MAP = "org.qemu.Display1.Listener.Unix.Map";
const PROPERTIES = "org.freedesktop.DBus.Properties";

/** Per interface, the methods the listener serves and the body each must have; anything else is an error. */
const LISTENER_METHODS: Record<string, Record<string, string>> = {
  [LISTENER]: { Scanout: "uuuuay", Update: "iiiiuuay", Disable: "", MouseSet: "iii", CursorDefine: "iiiiay" },
  [UNIX_MAP]: { ScanoutMap: "huuuuu", UpdateMap: "iiii" },
  [PROPERTIES]: { Get: "ss", GetAll: "s" },
};

export interface FrameSink {
  /** `data`: the message's GBytes, handed on without a copy. */
  scanout(width: number, height: number, stride: number, format: number, data: unknown): void;
  update(x: number, y: number, width: number, height: number, stride: number, format: number, data: unknown): void;
  /** QEMU shares its framebuffer; `frame.fd` is the sink's to close, whether it takes the frame or not. */
  scanoutMap(frame: SharedFrame): void;
  /** A rectangle of the shared framebuffer changed. */
  updateMap(x: number, y: number, width: number, height: number): void;
  disable(): void;
  /** QEMU's message could not be used; the viewer keeps the last good picture and goes on. */
  refused(what: string, error: unknown): void;
  /** QEMU closed the display connection (the VM stopped) or it could not be set up. */
  closed(): void;
}

export interface DBusMessage {
  getMessageType(): number;
  getFlags(): number;
  getMember(): string;
  getPath(): string;
  getInterface(): string;
  getSignature(): string;
  getBody(): GVariant;
  setBody(body: unknown): void;
  getUnixFdList(): { getLength(): number; get(index: number): number } | null;
  newMethodReply(): DBusMessage;
  copy(): DBusMessage;
  newMethodErrorLiteral(name: string, text: string): DBusMessage;
}

export interface PeerConnection {
  sendMessage(message: DBusMessage, flags: number): unknown;
}

/**
 * The listener connection's message filter: it sees every message QEMU sends on that private connection (each is
 * a call to the listener) and answers it itself, as node-gtk cannot make the GClosures register_object takes.
 */
export function listenerFilter(gi: Gi, sink: FrameSink): (connection: PeerConnection, message: DBusMessage, incoming: boolean) => DBusMessage | null {
  return (connection, message, incoming) => {
    // An outgoing message goes out as GDBus handed it; node-gtk's return of it would drop GDBus's reference.
    if (!incoming) return message.copy();
    try {
      const reply = replyToListenerCall(gi, message, sink);
      if (reply !== null) connection.sendMessage(reply, gi.Gio.DBusSendMessageFlags.NONE);
    } finally {
      // GDBus hands the filter its reference to the message; node-gtk takes one of its own for the JS object and
      // never drops GDBus's, so every message QEMU sent (on the copy path, its pixels) stayed in memory: gigabytes
      // a minute. The JS object of a message made in a callback lacks the methods GObject.Object gives, hence the call.
      gi.GObject.Object.prototype.unref.call(message);
    }
    return null;
  };
}

export interface GVariant {
  lookupValue(key: string, type: null): GVariant | null;
  getChildValue(index: number): GVariant;
  getUint32(): number;
  getInt32(): number;
  getHandle(): number;
  getString(): [string, bigint];
  getBoolean(): boolean;
  getVariant(): GVariant;
  getDataAsBytes(): unknown;
  getSize(): number | bigint;
}

/**
 * The reply to one message QEMU sent the listener, or null for a message that is no method call or a call that
 * wants no reply. QEMU 7.2 sends its Scanouts and Updates without waiting for a reply: a reply would only come
 * back through the connection's filter, a second node-gtk callback per frame (docs/benchmarks.md).
 */
export function replyToListenerCall(gi: Gi, message: DBusMessage, sink: FrameSink): DBusMessage | null {
  if (message.getMessageType() !== gi.Gio.DBusMessageType.METHOD_CALL) return null;
  const reply = answer(gi, message, sink);
  return (message.getFlags() & gi.Gio.DBusMessageFlags.NO_REPLY_EXPECTED) !== 0 ? null : reply;
}

function answer(gi: Gi, message: DBusMessage, sink: FrameSink): DBusMessage {
  const method = message.getMember();
  const expected = LISTENER_METHODS[message.getInterface()]?.[method];
  if (message.getPath() !== LISTENER_PATH || expected === undefined || message.getSignature() !== expected) {
    return message.newMethodErrorLiteral("org.freedesktop.DBus.Error.UnknownMethod", `clan-viewer serves no ${message.getInterface()}.${method}(${message.getSignature()})`);
  }
  if (message.getInterface() === PROPERTIES) return answerProperties(gi, message);
  try {
    dispatch(method, message, sink);
    return message.newMethodReply();
  } catch (error) {
    sink.refused(method, error);
    // Told that its frame was refused, QEMU ≥ 9.2 stops sharing with this listener and copies from then on.
    return message.newMethodErrorLiteral("org.freedesktop.DBus.Error.InvalidArgs", `clan-viewer refused ${method}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** QEMU ≥ 9.2 reads the listener's properties with GetAll (its GDBusProxy): Interfaces on the listener, none on Unix.Map. */
function answerProperties(gi: Gi, message: DBusMessage): DBusMessage {
  const { GLib } = gi;
  const body = message.getBody();
  const iface = body.getChildValue(0).getString()[0];
  const name = message.getMember() === "Get" ? body.getChildValue(1).getString()[0] : undefined;
  const interfaces = GLib.Variant.newStrv([UNIX_MAP]);
  const properties = (entries: unknown[]) => GLib.Variant.newArray(GLib.VariantType.new("{sv}"), entries);
  let value: unknown;
  if (iface === LISTENER && name === undefined) value = properties([GLib.Variant.newDictEntry(GLib.Variant.newString("Interfaces"), GLib.Variant.newVariant(interfaces))]);
  else if (iface === LISTENER && name === "Interfaces") value = GLib.Variant.newVariant(interfaces);
  else if (iface === UNIX_MAP && name === undefined) value = properties([]);
  else return message.newMethodErrorLiteral("org.freedesktop.DBus.Error.UnknownProperty", `clan-viewer's listener has no property ${iface}.${name ?? "*"}`);
  const reply = message.newMethodReply();
  reply.setBody(GLib.Variant.newTuple([value]));
  return reply;
}

function dispatch(method: string, message: DBusMessage, sink: FrameSink): void {
  const p = message.getBody();
  const u = (i: number) => p.getChildValue(i).getUint32();
  const i = (n: number) => p.getChildValue(n).getInt32();
  const bytes = (n: number) => p.getChildValue(n).getDataAsBytes();
  switch (method) {
    case "Scanout":
      sink.scanout(u(0), u(1), u(2), u(3), bytes(4));
      return;
    case "Update":
      sink.update(i(0), i(1), i(2), i(3), u(4), u(5), bytes(6));
      return;
    case "ScanoutMap":
      sink.scanoutMap({ fd: handedFd(message, p.getChildValue(0).getHandle()), offset: u(1), size: { width: u(2), height: u(3) }, stride: u(4), format: u(5) });
      return;
    case "UpdateMap":
      sink.updateMap(i(0), i(1), i(2), i(3));
      return;
    case "Disable":
      sink.disable();
      return;
    default:
      // The guest's cursor is drawn by the guest's own pointer.
      return;
  }
}

/** The descriptor at `handle` of the message's list, duplicated: the message closes its own when it is freed. */
function handedFd(message: DBusMessage, handle: number): number {
  const fds = message.getUnixFdList();
  if (fds === null || handle < 0 || handle >= fds.getLength()) throw new Error(`file descriptor ${handle} is not in the message`);
  return fds.get(handle);
}
