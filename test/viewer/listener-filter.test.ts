import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { Gi } from "../../src/viewer/gi.js";
import { listenerFilter, type FrameSink } from "../../src/viewer/listener-calls.js";
import { socketPair } from "../../src/viewer/qemu-display.js";

// The listener's message filter on a real GDBus peer connection, as QEMU 7.2 uses it: 200 Updates of 1 MiB of
// pixels each, sent without waiting for a reply, reach the screen and leave the process no larger than a few of
// them. node-gtk never dropped GDBus's reference to a filtered message: every message stayed (200 MiB here, the
// viewer grew by gigabytes a minute under a guest redrawing its screen).

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), GObject: nodeGtk.require("GObject", "2.0"), Gio: nodeGtk.require("Gio", "2.0") } as unknown as Gi);
const MiB = 1024 * 1024;
const MESSAGES = 200;

class CountingSink implements FrameSink {
  updates = 0;
  scanout(): void {}
  update(): void {
    this.updates++;
  }
  scanoutMap(): void {}
  updateMap(): void {}
  disable(): void {}
  refused(what: string, error: unknown): void {
    throw new Error(`refused ${what}: ${String(error)}`);
  }
  closed(): void {}
}

describe.skipIf(gi === undefined)(`the listener's filter${gi === undefined ? " [skipped: node-gtk did not build]" : ""}`, () => {
  it("lets go of each message QEMU sent once it is handled", async () => {
    const { GLib, Gio } = gi!;
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    const context = GLib.MainContext.default();
    const turn = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (context.iteration(false));
    };
    const [ours, qemus] = socketPair(gi!);
    const sink = new CountingSink();
    let viewer: unknown;
    Gio.DBusConnection.new(ours.connectionFactoryCreateConnection(), null, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.DELAY_MESSAGE_PROCESSING, null, null, (_source: unknown, result: unknown) => {
      const connection = Gio.DBusConnection.newFinish(result);
      connection.addFilter(listenerFilter(gi!, sink));
      connection.startMessageProcessing();
      viewer = connection;
    });
    const qemu = Gio.DBusConnection.newSync(qemus.connectionFactoryCreateConnection(), Gio.dbusGenerateGuid(), Gio.DBusConnectionFlags.AUTHENTICATION_SERVER, null, null);
    while (viewer === undefined) await turn();
    const width = 512;
    const pixels = GLib.Variant.newFromBytes(GLib.VariantType.new("ay"), GLib.Bytes.new(Buffer.alloc(MiB, 7)), true);
    const update = () => {
      const message = Gio.DBusMessage.newMethodCall(null, "/org/qemu/Display1/Listener", "org.qemu.Display1.Listener", "Update");
      const i = (value: number) => GLib.Variant.newInt32(value);
      const u = (value: number) => GLib.Variant.newUint32(value);
      message.setBody(GLib.Variant.newTuple([i(0), i(0), i(width), i(MiB / (width * 4)), u(width * 4), u(0x20020888), pixels]));
      message.setFlags(Gio.DBusMessageFlags.NO_REPLY_EXPECTED);
      return message;
    };
    // One message in flight at a time, as QEMU's refresh sends them: what stays is what the filter kept.
    const sendAndWait = async (count: number) => {
      for (let sent = 0; sent < count; sent++) {
        const target = sink.updates + 1;
        qemu.sendMessage(update(), Gio.DBusSendMessageFlags.NONE);
        const deadline = Date.now() + 30_000;
        while (sink.updates < target && Date.now() < deadline) await turn();
        if (sent % 10 === 9) collect();
      }
      collect();
    };
    await sendAndWait(10);
    const before = process.memoryUsage().rss;
    await sendAndWait(MESSAGES);
    const grown = (process.memoryUsage().rss - before) / MiB;
    expect(sink.updates).toBe(MESSAGES + 10);
    expect(grown).toBeLessThan(48);
    qemu.closeSync(null);
  }, 120_000);
});
