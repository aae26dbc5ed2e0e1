import type { Gi } from "./gi.js";
import type { SharedFrame } from "./shared-screen.js";

// The connection to one VM's QEMU D-Bus display (org.qemu.Display1) through GLib's GDBus: it alone passes the
// file descriptors that RegisterListener and ScanoutMap take. QEMU talks to the listener over its own peer-to-peer
// connection on a socket the viewer hands over; on it QEMU calls Scanout/Update (QEMU 7.2: the pixels inside the
// message) or, having read the listener's Interfaces property (QEMU ≥ 9.2), ScanoutMap/UpdateMap (the framebuffer
// shared as a memory file).

const QEMU_NAME = "org.qemu";
const CONSOLE_PATH = "/org/qemu/Display1/Console_0";
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

export class QemuDisplay {
  private readonly bus: ReturnType<Gi["Gio"]["DBusConnection"]["newForAddressSync"]>;
  private peer: unknown;
  private absolute = false;
  /** The console's size as last announced. */
  private size = { width: 0, height: 0 };

  constructor(
    private readonly gi: Gi,
    address: string,
  ) {
    const { Gio } = gi;
    // A private bus per VM: authenticate as a client of that bus, and register so that names resolve.
    this.bus = Gio.DBusConnection.newForAddressSync(address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, null, null);
    this.absolute = this.property("org.qemu.Display1.Mouse", "IsAbsolute").getBoolean();
  }

  /** Hands QEMU one end of a fresh socket and serves the Listener on the other; frames then reach `sink`. */
  registerListener(sink: FrameSink): void {
    const { Gio, GLib } = this.gi;
    const [ours, qemus] = socketPair(this.gi);
    // Both ends authenticate while the call is under way: the peer connection must not block waiting for QEMU,
    // which only starts talking once it has the descriptor.
    Gio.DBusConnection.new(ours.connectionFactoryCreateConnection(), null, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.DELAY_MESSAGE_PROCESSING, null, null, (_source: unknown, result: unknown) => {
      try {
        const peer = Gio.DBusConnection.newFinish(result);
        // node-gtk cannot make the GClosures register_object takes: a filter sees every message QEMU sends on this
        // private connection (each is a call to the listener) and answers it itself.
        peer.addFilter((connection: PeerConnection, message: DBusMessage, incoming: boolean) => {
          // An outgoing message goes out as GDBus handed it; node-gtk's return of it would drop GDBus's reference.
          if (!incoming) return message.copy();
          this.answer(connection, message, sink);
          return null;
        });
        peer.on("closed", () => sink.closed());
        peer.startMessageProcessing();
        this.peer = peer;
      } catch (error) {
        sink.refused("listener connection", error);
        sink.closed();
      }
    });
    const fds = Gio.UnixFDList.new();
    fds.append(qemus.getFd());
    this.bus.callWithUnixFdList(QEMU_NAME, CONSOLE_PATH, "org.qemu.Display1.Console", "RegisterListener", GLib.Variant.newTuple([GLib.Variant.newHandle(0)]), null, Gio.DBusCallFlags.NONE, -1, fds, null, (_source: unknown, result: unknown) => {
      try {
        this.bus.callWithUnixFdListFinish(result);
      } catch (error) {
        sink.refused("RegisterListener", error);
        sink.closed();
      }
      qemus.close();
    });
  }

  private answer(connection: PeerConnection, message: DBusMessage, sink: FrameSink): void {
    const { Gio } = this.gi;
    if (message.getMessageType() !== Gio.DBusMessageType.METHOD_CALL) return;
    const method = message.getMember();
    const expected = LISTENER_METHODS[message.getInterface()]?.[method];
    let reply: DBusMessage;
    if (message.getPath() !== LISTENER_PATH || expected === undefined || message.getSignature() !== expected) {
      reply = message.newMethodErrorLiteral("org.freedesktop.DBus.Error.UnknownMethod", `clan-viewer serves no ${message.getInterface()}.${method}(${message.getSignature()})`);
    } else if (message.getInterface() === PROPERTIES) {
      reply = this.answerProperties(message);
    } else {
      try {
        dispatch(method, message, sink);
        reply = message.newMethodReply();
      } catch (error) {
        sink.refused(method, error);
        // Told that its frame was refused, QEMU ≥ 9.2 sends the next one by copy instead of shared memory.
        reply = message.newMethodErrorLiteral("org.freedesktop.DBus.Error.InvalidArgs", `clan-viewer refused ${method}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    connection.sendMessage(reply, Gio.DBusSendMessageFlags.NONE);
  }

  /**
   * QEMU ≥ 9.2 reads the listener's properties (GetAll through its GDBusProxy) to learn whether it may share the
   * framebuffer: the listener has one, Interfaces, naming Unix.Map; Unix.Map has none.
   */
  private answerProperties(message: DBusMessage): DBusMessage {
    const { GLib } = this.gi;
    const body = message.getBody();
    const iface = body.getChildValue(0).getString()[0];
    const name = message.getMember() === "Get" ? body.getChildValue(1).getString()[0] : undefined;
    const interfaces = GLib.Variant.newStrv([UNIX_MAP]);
    if (iface === LISTENER && (name === undefined || name === "Interfaces")) {
      const reply = message.newMethodReply();
      const value = name === undefined ? GLib.Variant.newArray(GLib.VariantType.new("{sv}"), [GLib.Variant.newDictEntry(GLib.Variant.newString("Interfaces"), GLib.Variant.newVariant(interfaces))]) : GLib.Variant.newVariant(interfaces);
      reply.setBody(GLib.Variant.newTuple([value]));
      return reply;
    }
    if (iface === UNIX_MAP && name === undefined) {
      const reply = message.newMethodReply();
      reply.setBody(GLib.Variant.newTuple([GLib.Variant.newArray(GLib.VariantType.new("{sv}"), [])]));
      return reply;
    }
    return message.newMethodErrorLiteral("org.freedesktop.DBus.Error.UnknownProperty", `clan-viewer's listener has no property ${iface}.${name ?? "*"}`);
  }

  /**
   * QEMU 7.2 sends a Scanout only for an update that covers the whole screen: a mode change shows first as the
   * console's Width and Height, and the screen must take that size before the updates of the new mode fit.
   */
  followConsoleSize(resize: (width: number, height: number) => void): void {
    const { Gio } = this.gi;
    // The new size is read from the signal itself: a call to QEMU from here could wait on GDBus's worker thread
    // while that thread waits for the listener's frame handler on this one.
    this.bus.signalSubscribe(QEMU_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", CONSOLE_PATH, "org.qemu.Display1.Console", Gio.DBusSignalFlags.NONE,
      (_connection: unknown, _sender: unknown, _path: unknown, _iface: unknown, _signal: unknown, parameters: GVariant) => {
        const changed = parameters.getChildValue(1);
        const width = changed.lookupValue("Width", null)?.getUint32();
        const height = changed.lookupValue("Height", null)?.getUint32();
        if (width === undefined && height === undefined) return;
        this.size = { width: width ?? this.size.width, height: height ?? this.size.height };
        resize(this.size.width, this.size.height);
      });
    const { width, height } = this.consoleSize();
    this.size = { width, height };
    resize(width, height);
  }

  /** The console's size now, as QEMU says. */
  consoleSize(): { width: number; height: number } {
    return { width: this.property("org.qemu.Display1.Console", "Width").getUint32(), height: this.property("org.qemu.Display1.Console", "Height").getUint32() };
  }

  pressKey(qnum: number, down: boolean): void {
    this.call("org.qemu.Display1.Keyboard", down ? "Press" : "Release", [this.gi.GLib.Variant.newUint32(qnum)]);
  }

  /** `button`: QEMU's InputButton, 0 left, 1 middle, 2 right, 3 wheel up, 4 wheel down. */
  pressButton(button: number, down: boolean): void {
    this.call("org.qemu.Display1.Mouse", down ? "Press" : "Release", [this.gi.GLib.Variant.newUint32(button)]);
  }

  /** Moves the guest's pointer to a point of its screen, absolutely where the guest has a tablet. */
  movePointer(x: number, y: number, dx: number, dy: number): void {
    const { Variant } = this.gi.GLib;
    if (this.absolute) this.call("org.qemu.Display1.Mouse", "SetAbsPosition", [Variant.newUint32(Math.max(0, Math.round(x))), Variant.newUint32(Math.max(0, Math.round(y)))]);
    else if (dx !== 0 || dy !== 0) this.call("org.qemu.Display1.Mouse", "RelMotion", [Variant.newInt32(Math.round(dx)), Variant.newInt32(Math.round(dy))]);
  }

  /** Asks the guest for a screen of this size (a guest with a resizable display follows it). */
  setSize(width: number, height: number): void {
    const { Variant } = this.gi.GLib;
    // At 96 dots per inch.
    const mm = (pixels: number) => Variant.newUint16(Math.min(65535, Math.round((pixels * 25.4) / 96)));
    this.call("org.qemu.Display1.Console", "SetUIInfo", [mm(width), mm(height), Variant.newInt32(0), Variant.newInt32(0), Variant.newUint32(width), Variant.newUint32(height)]);
  }

  close(): void {
    (this.peer as { closeSync?(cancellable: null): void } | undefined)?.closeSync?.(null);
    this.bus.closeSync(null);
  }

  private call(iface: string, method: string, args: unknown[]): void {
    const { Gio, GLib } = this.gi;
    // Input is fire-and-forget: the window must not wait on QEMU for each key.
    this.bus.call(QEMU_NAME, CONSOLE_PATH, iface, method, GLib.Variant.newTuple(args), null, Gio.DBusCallFlags.NO_AUTO_START, -1, null, null);
  }

  private property(iface: string, name: string): GVariant {
    const { Gio, GLib } = this.gi;
    const reply = this.bus.callSync(QEMU_NAME, CONSOLE_PATH, "org.freedesktop.DBus.Properties", "Get", GLib.Variant.newTuple([GLib.Variant.newString(iface), GLib.Variant.newString(name)]), null, Gio.DBusCallFlags.NONE, -1, null);
    return reply.getChildValue(0).getVariant();
  }
}

interface DBusMessage {
  getMessageType(): number;
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

interface PeerConnection {
  sendMessage(message: DBusMessage, flags: number): unknown;
}

interface GVariant {
  lookupValue(key: string, type: null): GVariant | null;
  getChildValue(index: number): GVariant;
  getUint32(): number;
  getInt32(): number;
  getHandle(): number;
  getString(): [string, bigint];
  getBoolean(): boolean;
  getVariant(): GVariant;
  getDataAsBytes(): unknown;
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
      // The guest's cursor is drawn by the guest's own pointer on the copy path.
      return;
  }
}

/** The descriptor at `handle` of the message's list, duplicated: the message closes its own when it is freed. */
function handedFd(message: DBusMessage, handle: number): number {
  const fds = message.getUnixFdList();
  if (fds === null || handle < 0 || handle >= fds.getLength()) throw new Error(`file descriptor ${handle} is not in the message`);
  return fds.get(handle);
}

/** Gio has no socketpair(): a listening socket in a private directory and one connection to it give the pair. */
function socketPair(gi: Gi): [SocketLike, SocketLike] {
  const { Gio, GLib } = gi;
  const dir = GLib.dirMakeTmp("clan-viewer-XXXXXX") as string;
  const path = `${dir}/pair`;
  const address = Gio.UnixSocketAddress.new(path);
  const server = Gio.Socket.new(Gio.SocketFamily.UNIX, Gio.SocketType.STREAM, Gio.SocketProtocol.DEFAULT);
  server.bind(address, false);
  server.listen();
  const client = Gio.Socket.new(Gio.SocketFamily.UNIX, Gio.SocketType.STREAM, Gio.SocketProtocol.DEFAULT);
  client.connect(address, null);
  const accepted = server.accept(null);
  server.close();
  GLib.unlink(path);
  GLib.rmdir(dir);
  return [client, accepted];
}

interface SocketLike {
  connectionFactoryCreateConnection(): unknown;
  getFd(): number;
  close(): void;
}
