import { tmpdir } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { GBytesReader } from "../../src/viewer/gbytes-reader.js";
import type { Gi } from "../../src/viewer/gi.js";
import { GuestScreen, type ScreenView } from "../../src/viewer/guest-screen.js";
import { listenerFilter, type DBusMessage, type PeerConnection } from "../../src/viewer/listener-calls.js";
import { PixelGarbage } from "../../src/viewer/pixel-garbage.js";
import { socketPair } from "../../src/viewer/qemu-display.js";
import { pixelsOfSurface } from "./surface-pixels.js";

// The copy-path filter (src/viewer/native/copy-path-filter.cc) on a real GDBus peer connection, in front of the JS
// filter as clan-viewer puts it, with "QEMU" on the other end sending what QEMU 7.2 sends, and what a hostile QEMU
// (a guest that took it over) could. A plain Update is written by the native filter alone; every message it must
// not take (too few bytes, a stride or format that does not fit, a rectangle off the screen, a reply wanted, another
// signature or path) reaches the JS filter, which refuses or handles it as before, and the screen keeps its pixels.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi =
  nodeGtk === undefined
    ? undefined
    : ({ GLib: nodeGtk.require("GLib", "2.0"), GObject: nodeGtk.require("GObject", "2.0"), Gio: nodeGtk.require("Gio", "2.0"), Gdk: nodeGtk.require("Gdk", "4.0"), cairo: nodeGtk.require("cairo") } as unknown as Gi);

const X8R8G8B8 = 0x20020888;
const RED = [0, 0, 255, 0];
const BLUE = [255, 0, 0, 0];
const red = "255,0,0";
const blue = "0,0,255";

interface Listener {
  screen: GuestScreen;
  /** Messages that reached the JS filter, by member. */
  reachedJs: string[];
  refusals: string[];
  send(member: "Scanout" | "Update", args: number[], pixels: Buffer, options?: { replyWanted?: boolean; path?: string }): void;
  /** Turns both loops until `done` holds. */
  until(done: () => boolean, what: string): Promise<void>;
  pixels(): string[][];
  close(): void;
}

const opened: Listener[] = [];
afterEach(() => {
  for (const listener of opened.splice(0)) listener.close();
});

async function listen(): Promise<Listener> {
  const { GLib, Gio } = gi!;
  const context = GLib.MainContext.default();
  const turn = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    while (context.iteration(false));
  };
  const reachedJs: string[] = [];
  const refusals: string[] = [];
  const shown: unknown[] = [];
  const view: ScreenView = { changed: () => undefined, show: (surface) => shown.push(surface), hide: () => undefined, resized: () => undefined, log: (message) => refusals.push(message), closed: () => undefined };
  const screen = new GuestScreen(gi!, new GBytesReader(gi!, tmpdir()), view, new PixelGarbage(() => undefined), tmpdir());
  const [ours, qemus] = socketPair(gi!);
  let viewer: { close(cancellable: null, callback: null): void } | undefined;
  Gio.DBusConnection.new(ours.connectionFactoryCreateConnection(), null, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.DELAY_MESSAGE_PROCESSING, null, null, (_source: unknown, result: unknown) => {
    const connection = Gio.DBusConnection.newFinish(result);
    // As QemuDisplay.registerListener does: the screen's native filter first, then the JS one.
    screen.listening(connection);
    const js = listenerFilter(gi!, screen);
    connection.addFilter((peer: PeerConnection, message: DBusMessage, incoming: boolean) => {
      if (incoming) reachedJs.push(message.getMember());
      return js(peer, message, incoming);
    });
    connection.startMessageProcessing();
    viewer = connection;
  });
  const qemu = Gio.DBusConnection.newSync(qemus.connectionFactoryCreateConnection(), Gio.dbusGenerateGuid(), Gio.DBusConnectionFlags.AUTHENTICATION_SERVER, null, null);
  while (viewer === undefined) await turn();
  const listener: Listener = {
    screen,
    reachedJs,
    refusals,
    send(member, args, pixels, options = {}) {
      const message = Gio.DBusMessage.newMethodCall(null, options.path ?? "/org/qemu/Display1/Listener", "org.qemu.Display1.Listener", member);
      const ints = member === "Update" ? 4 : 0;
      const values = args.map((value, index) => (index < ints ? GLib.Variant.newInt32(value) : GLib.Variant.newUint32(value)));
      message.setBody(GLib.Variant.newTuple([...values, GLib.Variant.newFromBytes(GLib.VariantType.new("ay"), GLib.Bytes.new(pixels), true)]));
      if (!options.replyWanted) message.setFlags(Gio.DBusMessageFlags.NO_REPLY_EXPECTED);
      qemu.sendMessage(message, Gio.DBusSendMessageFlags.NONE);
    },
    async until(done, what) {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; reached JS: ${reachedJs.join(", ")}; refused: ${refusals.join("; ")}`);
        await turn();
      }
    },
    pixels() {
      screen.flush();
      return pixelsOfSurface(gi!, shown.at(-1));
    },
    close() {
      screen.closed();
      // Closing one end closes the other: QEMU's side goes first, the viewer's follows.
      qemu.closeSync(null);
      viewer?.close(null, null);
    },
  };
  opened.push(listener);
  return listener;
}

function rows(width: number, height: number, colour: number[], padPixels = 0): Buffer {
  const row = [...Array.from({ length: width }, () => colour).flat(), ...Array.from({ length: padPixels * 4 }, () => 9)];
  return Buffer.from(Array.from({ length: height }, () => row).flat());
}

describe.skipIf(gi === undefined)(`the copy-path filter${gi === undefined ? " [skipped: node-gtk did not build]" : ""}`, () => {
  it("writes plain Updates and Scanouts of the screen's size itself: not one reaches the JS filter", async () => {
    const listener = await listen();
    // The first Scanout makes the screen's file: the JS filter's work.
    listener.send("Scanout", [4, 3, 16, X8R8G8B8], rows(4, 3, RED));
    await listener.until(() => listener.screen.counters.scanouts === 1, "the first Scanout");
    expect(listener.reachedJs).toEqual(["Scanout"]);

    listener.send("Update", [1, 1, 2, 1, 8, X8R8G8B8], rows(2, 1, BLUE));
    listener.send("Update", [0, 2, 4, 1, 16, X8R8G8B8], rows(4, 1, BLUE));
    // A stride with padding, as QEMU's may have.
    listener.send("Update", [3, 0, 1, 2, 8, X8R8G8B8], rows(1, 2, BLUE, 1));
    await listener.until(() => listener.screen.counters.updates === 3, "three Updates");
    expect(listener.pixels()).toEqual([
      [red, red, red, blue],
      [red, blue, blue, blue],
      [blue, blue, blue, blue],
    ]);
    listener.send("Scanout", [4, 3, 16, X8R8G8B8], rows(4, 3, RED));
    await listener.until(() => listener.screen.counters.scanouts === 2, "the second Scanout");
    expect(listener.pixels()).toEqual(Array.from({ length: 3 }, () => [red, red, red, red]));
    expect(listener.reachedJs).toEqual(["Scanout"]);
    expect(listener.screen.counters.bytes).toBe(48 + 8 + 16 + 16 + 48);
  });

  it("hands every message it must not take to the JS filter, which refuses the bad ones and keeps the screen", async () => {
    const listener = await listen();
    listener.send("Scanout", [4, 3, 16, X8R8G8B8], rows(4, 3, RED));
    await listener.until(() => listener.screen.counters.scanouts === 1, "the first Scanout");

    const hostile: [string, number[], Buffer][] = [
      ["fewer bytes than its rows", [0, 0, 4, 3, 16, X8R8G8B8], rows(4, 2, BLUE)],
      ["a stride shorter than a row", [0, 0, 4, 2, 8, X8R8G8B8], rows(4, 2, BLUE)],
      ["a stride far longer than a row", [0, 0, 1, 2, 4 + 8192, X8R8G8B8], Buffer.alloc(2 * (4 + 8192), 255)],
      ["another pixel format", [0, 0, 4, 1, 16, 0x20010565], rows(4, 1, BLUE)],
      ["a negative origin", [-1, 0, 2, 1, 8, X8R8G8B8], rows(2, 1, BLUE)],
      ["an empty rectangle", [0, 0, 0, 1, 16, X8R8G8B8], rows(4, 1, BLUE)],
    ];
    for (const [what, args, pixels] of hostile) {
      const reached = listener.reachedJs.length;
      const refused = listener.refusals.length;
      listener.send("Update", args, pixels);
      await listener.until(() => listener.reachedJs.length === reached + 1 && listener.refusals.length === refused + 1, `the JS filter to refuse ${what}`);
    }
    expect(listener.refusals.every((line) => line.startsWith("refused QEMU's Update"))).toBe(true);
    expect(listener.screen.counters.updates).toBe(0);
    expect(listener.pixels()).toEqual(Array.from({ length: 3 }, () => [red, red, red, red]));

    // Fine pixels, but a reply wanted, or sent to another object: not the filter's to take.
    listener.send("Update", [0, 0, 1, 1, 4, X8R8G8B8], rows(1, 1, BLUE), { replyWanted: true });
    listener.send("Update", [0, 0, 1, 1, 4, X8R8G8B8], rows(1, 1, BLUE), { path: "/org/qemu/Display1/Other" });
    await listener.until(() => listener.reachedJs.length === 1 + hostile.length + 2, "the two Updates to reach the JS filter");
    expect(listener.refusals).toHaveLength(hostile.length);
    expect(listener.screen.counters.updates).toBe(1);
  });

  it("leaves a larger mode to the JS filter, then writes the new mode's Updates itself", async () => {
    const listener = await listen();
    listener.send("Scanout", [2, 2, 8, X8R8G8B8], rows(2, 2, RED));
    await listener.until(() => listener.screen.counters.scanouts === 1, "the first Scanout");
    // QEMU 7.2 may send an Update of a larger new mode before the console's new size: the screen grows to hold it.
    listener.send("Update", [0, 0, 3, 3, 12, X8R8G8B8], rows(3, 3, BLUE));
    listener.send("Update", [2, 2, 1, 1, 4, X8R8G8B8], rows(1, 1, RED));
    await listener.until(() => listener.screen.counters.updates === 2, "both Updates");
    expect(listener.reachedJs).toEqual(["Scanout", "Update"]);
    expect(listener.screen.size).toEqual({ width: 3, height: 3 });
    expect(listener.pixels()).toEqual([
      [blue, blue, blue],
      [blue, blue, blue],
      [blue, blue, red],
    ]);
  });
});
