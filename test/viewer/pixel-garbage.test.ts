import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { GBytesReader } from "../../src/viewer/gbytes-reader.js";
import type { Gi } from "../../src/viewer/gi.js";
import { GuestScreen, type ScreenView } from "../../src/viewer/guest-screen.js";
import { COLLECT_AFTER_BYTES, PixelGarbage, youngGenerationCollector } from "../../src/viewer/pixel-garbage.js";

// A guest that redraws its whole screen again and again must not grow the viewer: through real GLib and GDK, 300
// frames of 1024x768 (900 MiB of textures, what a guest drawing 30 frames a second shows in 10 s) are shown on
// the copy path while GLib's main context runs between them, as in the viewer. Without the collection the process
// grew by about as much as it was shown.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), Gio: nodeGtk.require("Gio", "2.0"), Gdk: nodeGtk.require("Gdk", "4.0") } as unknown as Gi);
const PIXMAN_X8R8G8B8 = 0x20020888;
const MiB = 1024 * 1024;

describe("PixelGarbage", () => {
  it("collects once per limit's worth of pixels shown, not before", () => {
    let collections = 0;
    const garbage = new PixelGarbage(() => collections++, 100);
    garbage.shown(60);
    expect(collections).toBe(0);
    garbage.shown(40);
    expect(collections).toBe(1);
    for (let frame = 0; frame < 10; frame++) garbage.shown(50);
    expect(collections).toBe(6);
  });
});

describe.skipIf(gi === undefined)(`the viewer's frames${gi === undefined ? " (needs node-gtk)" : ""}`, () => {
  it("are freed as the guest draws new ones", async () => {
    const { GLib } = gi!;
    const context = GLib.MainContext.default();
    const shown: unknown[] = [];
    const view: ScreenView = { changed: () => undefined, show: (texture) => shown.splice(0, 1, texture), hide: () => undefined, resized: () => undefined, log: () => undefined, closed: () => undefined };
    const screen = new GuestScreen(gi!, new GBytesReader(gi!, tmpdir()), view, new PixelGarbage(youngGenerationCollector()), tmpdir());
    const width = 1024;
    const height = 768;
    screen.scanout(width, height, width * 4, PIXMAN_X8R8G8B8, GLib.Bytes.new(Buffer.alloc(width * height * 4, 0x20)));
    const pixel = GLib.Bytes.new(Buffer.from([1, 2, 3, 0]));
    const turn = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (context.iteration(false));
    };
    for (let frame = 0; frame < 20; frame++) {
      screen.update(frame, 0, 1, 1, 4, PIXMAN_X8R8G8B8, pixel);
      screen.flush();
      await turn();
    }
    const before = process.memoryUsage().rss;
    for (let frame = 0; frame < 300; frame++) {
      screen.update(frame % width, 1, 1, 1, 4, PIXMAN_X8R8G8B8, pixel);
      screen.flush();
      await turn();
    }
    const grown = (process.memoryUsage().rss - before) / MiB;
    expect(screen.counters.shown).toBe(321);
    // What was shown: 900 MiB. What may stay: about two collection limits' worth of frames no longer shown.
    expect(grown).toBeLessThan((3 * COLLECT_AFTER_BYTES) / MiB);
  });
});
