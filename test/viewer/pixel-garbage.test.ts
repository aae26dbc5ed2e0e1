import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GBytesReader } from "../../src/viewer/gbytes-reader.js";
import type { Gi } from "../../src/viewer/gi.js";
import { GuestScreen, type ScreenView } from "../../src/viewer/guest-screen.js";
import { COLLECT_AFTER_BYTES, PixelGarbage, youngGenerationCollector } from "../../src/viewer/pixel-garbage.js";

// A guest that redraws its whole screen again and again must not grow the viewer: through real GLib, GIO and GDK,
// 300 full-screen Updates of 1024x768 (900 MiB of pixels, what a guest drawing 30 frames a second sends in 10 s),
// each in a GBytes of its own allocated outside V8 as GDBus allocates a message's, are taken on the copy path and
// shown while GLib's main context runs between them, as in the viewer. Without the collection the process grew by
// about as much as it received.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), Gio: nodeGtk.require("Gio", "2.0"), Gdk: nodeGtk.require("Gdk", "4.0"), cairo: nodeGtk.require("cairo") } as unknown as Gi);
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

describe.skipIf(gi === undefined)(`the viewer's messages${gi === undefined ? " (needs node-gtk)" : ""}`, () => {
  it("are freed as the guest sends new ones", async () => {
    const { GLib, Gio } = gi!;
    const context = GLib.MainContext.default();
    const shown: unknown[] = [];
    const view: ScreenView = { changed: () => undefined, show: (surface) => shown.splice(0, 1, surface), hide: () => undefined, resized: () => undefined, log: () => undefined, closed: () => undefined };
    const dir = mkdtempSync(join(tmpdir(), "clan-pixel-garbage-"));
    try {
      const screen = new GuestScreen(gi!, new GBytesReader(gi!, dir), view, new PixelGarbage(youngGenerationCollector()), dir);
      const width = 1024;
      const height = 768;
      const framePath = join(dir, "frame");
      writeFileSync(framePath, Buffer.alloc(width * height * 4, 0x20));
      const frame = Gio.File.newForPath(framePath);
      /** A fresh GBytes of a whole frame, read by GIO into memory V8 never sees. */
      const message = (): unknown => (frame.loadBytes(null) as unknown[])[0];
      const turn = async () => {
        await new Promise((resolve) => setImmediate(resolve));
        while (context.iteration(false));
      };
      screen.scanout(width, height, width * 4, PIXMAN_X8R8G8B8, message());
      for (let update = 0; update < 20; update++) {
        screen.update(0, 0, width, height, width * 4, PIXMAN_X8R8G8B8, message());
        screen.flush();
        await turn();
      }
      const before = process.memoryUsage().rss;
      for (let update = 0; update < 300; update++) {
        screen.update(0, 0, width, height, width * 4, PIXMAN_X8R8G8B8, message());
        screen.flush();
        await turn();
      }
      const grown = (process.memoryUsage().rss - before) / MiB;
      expect(screen.counters.updates).toBe(320);
      expect(screen.counters.shown).toBe(320);
      // What was received: 900 MiB. What may stay: about two collection limits' worth of messages handled.
      expect(grown).toBeLessThan((3 * COLLECT_AFTER_BYTES) / MiB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
