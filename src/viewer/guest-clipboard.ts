import { ClanError } from "../shared/errors.js";
import type { Gi } from "./gi.js";
import type { GBytesReader } from "./gbytes-reader.js";
import type { DBusMessage, GVariant } from "./listener-calls.js";

// The guest's side of the clipboard, through QEMU's org.qemu.Display1.Clipboard, used only when the user asks
// (Ctrl+Shift+C / Ctrl+Shift+V, docs/display.md). QEMU serves one clipboard peer at a time and calls back the peer's
// own org.qemu.Display1.Clipboard on the connection that registered; the viewer registers on the first action, on a
// connection of its own: the filter that answers QEMU's calls there runs on GDBus's worker thread and waits for the
// main thread, so the display connection's synchronous calls must not pass through it. On this connection the viewer
// only ever calls asynchronously.
//
// What the guest offers (QEMU's Grab) is never fetched on its own: only Ctrl+Shift+C asks for it. What the viewer
// offers (its Grab) is the host text the user chose with Ctrl+Shift+V, and nothing else.

const QEMU_NAME = "org.qemu";
const CLIPBOARD_PATH = "/org/qemu/Display1/Clipboard";
const CLIPBOARD_IFACE = "org.qemu.Display1.Clipboard";
const TEXT_MIME = "text/plain;charset=utf-8";
/** QemuClipboardSelection's CLIPBOARD (not PRIMARY or SECONDARY). */
const SELECTION_CLIPBOARD = 0;
/** The most guest text the viewer takes: a clipboard is for snippets, not a channel for files. */
const GUEST_TEXT_LIMIT = 256 * 1024;

/** QEMU's calls to the peer, and the body each must have; anything else is answered with an error. */
const PEER_METHODS: Record<string, string> = {
  Register: "",
  Unregister: "",
  Grab: "uuas",
  Release: "u",
  Request: "uas",
};

export class GuestClipboard {
  private connection: PeerConnection | undefined;
  /** Whether QEMU has this viewer as its clipboard peer. */
  private registered: Promise<void> | undefined;
  /** The text the user last offered the guest, served when the guest asks for it. */
  private offered: Buffer | undefined;
  /** The serial of the viewer's last Grab; QEMU drops a Grab whose serial is lower than the last it saw. */
  private serial = 0;

  constructor(
    private readonly gi: Gi,
    private readonly address: string,
    private readonly reader: GBytesReader,
  ) {}

  /** Offers `text` as the guest's clipboard: the guest may paste it from now on. */
  async offer(text: string): Promise<void> {
    await this.register();
    this.offered = Buffer.from(text, "utf8");
    this.serial++;
    const { GLib } = this.gi;
    await this.call("Grab", [GLib.Variant.newUint32(SELECTION_CLIPBOARD), GLib.Variant.newUint32(this.serial), GLib.Variant.newStrv([TEXT_MIME])]);
  }

  /** The guest's clipboard text as UTF-8 bytes, refused above GUEST_TEXT_LIMIT. */
  async take(): Promise<Buffer> {
    await this.register();
    const { GLib } = this.gi;
    const reply = await this.call("Request", [GLib.Variant.newUint32(SELECTION_CLIPBOARD), GLib.Variant.newStrv([TEXT_MIME])]);
    const [mime] = reply.getChildValue(0).getString();
    if (mime !== TEXT_MIME) throw new ClanError("InvalidArgument", `the guest's clipboard came as ${JSON.stringify(mime.slice(0, 80))}, not ${TEXT_MIME}`);
    const data = reply.getChildValue(1);
    const size = Number(data.getSize());
    if (size > GUEST_TEXT_LIMIT) throw new ClanError("InvalidArgument", `the guest's clipboard holds ${size} bytes, more than the ${GUEST_TEXT_LIMIT} the viewer takes`);
    return Buffer.from(this.reader.read(data.getDataAsBytes(), size));
  }

  close(): void {
    (this.connection as { closeSync?(cancellable: null): void } | undefined)?.closeSync?.(null);
  }

  private register(): Promise<void> {
    this.registered ??= this.connect().catch((error: unknown) => {
      this.registered = undefined;
      throw error;
    });
    return this.registered;
  }

  private async connect(): Promise<void> {
    const { Gio } = this.gi;
    const connection = await new Promise<PeerConnection>((resolve, reject) => {
      Gio.DBusConnection.newForAddress(this.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, null, null, (_source: unknown, result: unknown) => {
        try {
          resolve(Gio.DBusConnection.newForAddressFinish(result) as PeerConnection);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    connection.addFilter((peer: PeerConnection, message: DBusMessage, incoming: boolean) => {
      // What node-gtk hands back must be a message of its own: GDBus owns the one it passed in.
      if (!incoming || !this.isCallToPeer(message)) return message.copy();
      peer.sendMessage(this.answer(message), Gio.DBusSendMessageFlags.NONE);
      return null;
    });
    this.connection = connection;
    await this.call("Register", []);
  }

  private isCallToPeer(message: DBusMessage): boolean {
    return message.getMessageType() === this.gi.Gio.DBusMessageType.METHOD_CALL && message.getPath() === CLIPBOARD_PATH;
  }

  private answer(message: DBusMessage): DBusMessage {
    const { GLib } = this.gi;
    const method = message.getMember();
    if (message.getInterface() !== CLIPBOARD_IFACE || PEER_METHODS[method] !== message.getSignature()) {
      return message.newMethodErrorLiteral("org.freedesktop.DBus.Error.UnknownMethod", `clan-viewer serves no ${method}(${message.getSignature()})`);
    }
    const reply = message.newMethodReply();
    switch (method) {
      case "Register":
        // QEMU resets every peer's serial when a peer registers.
        this.serial = 0;
        return reply;
      case "Unregister":
        this.registered = undefined;
        return reply;
      case "Request": {
        const selection = message.getBody().getChildValue(0).getUint32();
        if (selection !== SELECTION_CLIPBOARD || this.offered === undefined) {
          return message.newMethodErrorLiteral("org.qemu.Display1.Error.Failed", "clan-viewer offers the guest only what the user pasted with Ctrl+Shift+V");
        }
        reply.setBody(GLib.Variant.newTuple([GLib.Variant.newString(TEXT_MIME), GLib.Variant.newFromBytes(GLib.VariantType.new("ay"), GLib.Bytes.new(this.offered), true)]));
        return reply;
      }
      default:
        // Grab and Release: the guest's clipboard changed; it is read only when the user asks.
        return reply;
    }
  }

  private call(method: string, args: unknown[]): Promise<GVariant> {
    const { Gio, GLib } = this.gi;
    const connection = this.connection;
    if (!connection) return Promise.reject(new ClanError("Disconnected", "the clipboard connection is not open"));
    return new Promise((resolve, reject) => {
      connection.call(QEMU_NAME, CLIPBOARD_PATH, CLIPBOARD_IFACE, method, GLib.Variant.newTuple(args), null, Gio.DBusCallFlags.NO_AUTO_START, -1, null, (_source: unknown, result: unknown) => {
        try {
          resolve(connection.callFinish(result));
        } catch (error) {
          reject(new ClanError("QemuFailed", `QEMU's clipboard ${method}: ${error instanceof Error ? error.message : String(error)}`));
        }
      });
    });
  }
}

interface PeerConnection {
  addFilter(filter: (connection: PeerConnection, message: DBusMessage, incoming: boolean) => DBusMessage | null): number;
  sendMessage(message: DBusMessage, flags: number): unknown;
  call(...args: unknown[]): void;
  callFinish(result: unknown): GVariant;
}
