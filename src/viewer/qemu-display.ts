import type { Gi } from "./gi.js";
import { listenerFilter, type FrameSink, type GVariant } from "./listener-calls.js";

// The connection to one VM's QEMU D-Bus display (org.qemu.Display1) through GLib's GDBus: it alone passes the
// file descriptors that RegisterListener and ScanoutMap take. QEMU talks to the listener over its own peer-to-peer
// connection on a socket the viewer hands over; on it QEMU calls Scanout/Update (QEMU 7.2: the pixels inside the
// message) or, having read the listener's Interfaces property (QEMU ≥ 9.2), ScanoutMap/UpdateMap (the framebuffer
// shared as a memory file).

/** A frame sink that also puts filters of its own on the listener's connection, ahead of the JS filter. */
export interface ListenerSink extends FrameSink {
  listening(connection: unknown): void;
}

const QEMU_NAME = "org.qemu";
const CONSOLE_PATH = "/org/qemu/Display1/Console_0";

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
  registerListener(sink: ListenerSink): void {
    const { Gio, GLib } = this.gi;
    const [ours, qemus] = socketPair(this.gi);
    // Both ends authenticate while the call is under way: the peer connection must not block waiting for QEMU,
    // which only starts talking once it has the descriptor.
    Gio.DBusConnection.new(ours.connectionFactoryCreateConnection(), null, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.DELAY_MESSAGE_PROCESSING, null, null, (_source: unknown, result: unknown) => {
      try {
        const peer = Gio.DBusConnection.newFinish(result);
        sink.listening(peer);
        // node-gtk cannot make the GClosures register_object takes: a filter sees every message QEMU sends on this
        // private connection (each is a call to the listener) and answers it itself.
        peer.addFilter(listenerFilter(this.gi, sink));
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

/** Gio has no socketpair(): a listening socket in a private directory and one connection to it give the pair. */
export function socketPair(gi: Gi): [SocketLike, SocketLike] {
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
