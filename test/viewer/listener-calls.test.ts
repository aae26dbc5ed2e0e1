import { closeSync, fstatSync, openSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Gi } from "../../src/viewer/gi.js";
import { replyToListenerCall, type DBusMessage, type FrameSink } from "../../src/viewer/listener-calls.js";
import type { SharedFrame } from "../../src/viewer/shared-screen.js";

// The listener's answers, with real GDBus messages as QEMU (or a QEMU taken over by its guest) would send them: the
// one property QEMU ≥ 9.2 reads is answered exactly, every other property, method, signature or path is an error,
// and a ScanoutMap's descriptor reaches the screen only when it is really in the message.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), Gio: nodeGtk.require("Gio", "2.0") } as unknown as Gi);
const LISTENER_PATH = "/org/qemu/Display1/Listener";
const LISTENER = "org.qemu.Display1.Listener";
const UNIX_MAP = "org.qemu.Display1.Listener.Unix.Map";
const PROPERTIES = "org.freedesktop.DBus.Properties";

interface Reply {
  getMessageType(): number;
  getErrorName(): string | null;
  getBody(): { print(typed: boolean): string } | null;
}

class RecordingSink implements FrameSink {
  readonly frames: SharedFrame[] = [];
  readonly refusals: string[] = [];
  readonly updates: number[][] = [];
  takeFrames = true;
  scanout(): void {}
  update(x: number, y: number, width: number, height: number): void {
    this.updates.push([x, y, width, height]);
  }
  scanoutMap(frame: SharedFrame): void {
    closeSync(frame.fd);
    if (!this.takeFrames) throw new Error("the frame does not fit");
    this.frames.push(frame);
  }
  updateMap(): void {}
  disable(): void {}
  refused(what: string, error: unknown): void {
    this.refusals.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  closed(): void {}
}

describe.skipIf(gi === undefined)(`clan-viewer's listener answers QEMU's calls${gi === undefined ? " [skipped: node-gtk did not build]" : ""}`, () => {
  const { Gio, GLib } = gi ?? ({} as Gi);
  const call = (iface: string, member: string, args: unknown[] | null, path = LISTENER_PATH): DBusMessage => {
    const message = Gio.DBusMessage.newMethodCall(null, path, iface, member);
    message.setSerial(7);
    if (args !== null) message.setBody(GLib.Variant.newTuple(args));
    return message as DBusMessage;
  };
  const answer = (message: DBusMessage, sink = new RecordingSink()) => replyToListenerCall(gi!, message, sink) as unknown as Reply;
  const errorOf = (reply: Reply) => (reply.getMessageType() === Gio.DBusMessageType.ERROR ? reply.getErrorName() : "no error");
  const s = (value: string) => GLib.Variant.newString(value);

  it("tells QEMU it may share the framebuffer: Interfaces names Unix.Map, and Unix.Map has no properties", () => {
    expect(answer(call(PROPERTIES, "GetAll", [s(LISTENER)])).getBody()!.print(true)).toBe(`({'Interfaces': <['${UNIX_MAP}']>},)`);
    expect(answer(call(PROPERTIES, "Get", [s(LISTENER), s("Interfaces")])).getBody()!.print(true)).toBe(`(<['${UNIX_MAP}']>,)`);
    expect(answer(call(PROPERTIES, "GetAll", [s(UNIX_MAP)])).getBody()!.print(true)).toBe("(@a{sv} {},)");
  });

  it("answers every other property, method, signature and path with an error", () => {
    expect(errorOf(answer(call(PROPERTIES, "Get", [s(LISTENER), s("Secret")])))).toBe("org.freedesktop.DBus.Error.UnknownProperty");
    expect(errorOf(answer(call(PROPERTIES, "GetAll", [s("org.freedesktop.DBus.Peer")])))).toBe("org.freedesktop.DBus.Error.UnknownProperty");
    expect(errorOf(answer(call(PROPERTIES, "Set", [s(LISTENER), s("Interfaces"), GLib.Variant.newVariant(GLib.Variant.newStrv([]))])))).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect(errorOf(answer(call(PROPERTIES, "Get", [s(LISTENER)])))).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect(errorOf(answer(call(PROPERTIES, "GetAll", [s(LISTENER)], "/org/qemu/Display1/Other")))).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect(errorOf(answer(call("org.freedesktop.DBus.Introspectable", "Introspect", null)))).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect(errorOf(answer(call(UNIX_MAP, "UpdateMap", [GLib.Variant.newUint32(0), GLib.Variant.newUint32(0), GLib.Variant.newUint32(1), GLib.Variant.newUint32(1)])))).toBe("org.freedesktop.DBus.Error.UnknownMethod");
  });

  const scanoutMap = (handle: number, fds: number[]): DBusMessage => {
    const u = (value: number) => GLib.Variant.newUint32(value);
    const message = call(UNIX_MAP, "ScanoutMap", [GLib.Variant.newHandle(handle), u(0), u(720), u(400), u(2880), u(0x20020888)]);
    const list = Gio.UnixFDList.new();
    for (const fd of fds) list.append(fd);
    (message as unknown as { setUnixFdList(list: unknown): void }).setUnixFdList(list);
    return message;
  };

  it("hands the screen a copy of the descriptor a ScanoutMap carries, and refuses a handle that is not in the message", () => {
    const file = openSync("/dev/null", "r");
    try {
      const sink = new RecordingSink();
      const reply = answer(scanoutMap(0, [file]), sink);
      expect(errorOf(reply)).toBe("no error");
      expect(sink.frames).toHaveLength(1);
      expect(sink.frames[0]).toMatchObject({ offset: 0, size: { width: 720, height: 400 }, stride: 2880, format: 0x20020888 });
      // The screen got (and closed) its own descriptor; the caller's stays open.
      expect(sink.frames[0]!.fd).not.toBe(file);
      expect(() => fstatSync(file)).not.toThrow();

      const outside = new RecordingSink();
      expect(errorOf(answer(scanoutMap(3, [file]), outside))).toBe("org.freedesktop.DBus.Error.InvalidArgs");
      expect(errorOf(answer(scanoutMap(0, []), outside))).toBe("org.freedesktop.DBus.Error.InvalidArgs");
      expect(outside.frames).toEqual([]);
      expect(outside.refusals).toEqual(["ScanoutMap: file descriptor 3 is not in the message", "ScanoutMap: file descriptor 0 is not in the message"]);
    } finally {
      closeSync(file);
    }
  });

  it("answers a frame the screen refuses with an error, so that QEMU goes back to copying", () => {
    const file = openSync("/dev/null", "r");
    try {
      const sink = new RecordingSink();
      sink.takeFrames = false;
      const reply = answer(scanoutMap(0, [file]), sink);
      expect(errorOf(reply)).toBe("org.freedesktop.DBus.Error.InvalidArgs");
      expect(sink.refusals).toEqual(["ScanoutMap: the frame does not fit"]);
    } finally {
      closeSync(file);
    }
  });

  it("does not answer a frame sent without waiting for a reply (QEMU 7.2's Scanout and Update), but still takes it", () => {
    const sink = new RecordingSink();
    const i = (value: number) => GLib.Variant.newInt32(value);
    const u = (value: number) => GLib.Variant.newUint32(value);
    const pixels = GLib.Variant.newFromBytes(GLib.VariantType.new("ay"), GLib.Bytes.new(Buffer.alloc(16)), true);
    const update = () => call(LISTENER, "Update", [i(1), i(2), i(2), i(2), u(8), u(0x20020888), pixels]);
    const noReply = update();
    (noReply as unknown as { setFlags(flags: number): void }).setFlags(Gio.DBusMessageFlags.NO_REPLY_EXPECTED);
    expect(replyToListenerCall(gi!, noReply, sink)).toBeNull();
    expect(errorOf(answer(update(), sink))).toBe("no error");
    expect(sink.updates).toEqual([
      [1, 2, 2, 2],
      [1, 2, 2, 2],
    ]);
  });

  it("ignores what is no method call", () => {
    const signal = Gio.DBusMessage.newSignal(LISTENER_PATH, LISTENER, "Scanout");
    expect(replyToListenerCall(gi!, signal as DBusMessage, new RecordingSink())).toBeNull();
  });
});
