import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { GBytesReader } from "../../src/viewer/gbytes-reader.js";
import type { Gi } from "../../src/viewer/gi.js";
import { PixelGarbage } from "../../src/viewer/pixel-garbage.js";
import { GuestScreen, type ScreenView } from "../../src/viewer/guest-screen.js";
import { pixelsOfSurface } from "./surface-pixels.js";

// The copy path's screen through real GLib and GDK and its memory file: a Scanout is shown (rows with padding, as
// QEMU's stride may have), a partial Update and a band of whole rows land over it, and a resize keeps what still
// fits. Every pixel of the surfaces shown is read back.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), Gio: nodeGtk.require("Gio", "2.0"), Gdk: nodeGtk.require("Gdk", "4.0"), cairo: nodeGtk.require("cairo") } as unknown as Gi);
/** pixman's a8r8g8b8: B G R A in memory. Opaque pixels read back as they are. */
const PIXMAN_A8R8G8B8 = 0x20028888;
const RED = [0, 0, 255, 255];
const BLUE = [255, 0, 0, 255];
const PADDING = [7, 7, 7, 7];

/** Rows of `width` pixels of one colour, each followed by `pad` pixels of padding. */
function rows(width: number, height: number, colour: number[], pad: number): unknown {
  const row = [...Array.from({ length: width }, () => colour).flat(), ...Array.from({ length: pad }, () => PADDING).flat()];
  return gi!.GLib.Bytes.new(Buffer.from(Array.from({ length: height }, () => row).flat()));
}

const pixelsOf = (surface: unknown): string[][] => pixelsOfSurface(gi!, surface);

describe.skipIf(gi === undefined)("the copy path's screen", () => {
  it("shows a Scanout, an Update over it, and keeps what fits across a resize", () => {
    const shown: unknown[] = [];
    const view: ScreenView = { changed: () => undefined, show: (surface) => shown.push(surface), hide: () => undefined, resized: () => undefined, log: () => undefined, closed: () => undefined };
    const screen = new GuestScreen(gi!, new GBytesReader(gi!, tmpdir()), view, new PixelGarbage(() => undefined), tmpdir());
    const red = "255,0,0";
    const blue = "0,0,255";
    const black = "0,0,0";

    screen.scanout(4, 3, (4 + 2) * 4, PIXMAN_A8R8G8B8, rows(4, 3, RED, 2));
    // Shown at the window's next frame, with whatever else arrives before it.
    expect(shown).toHaveLength(0);
    screen.flush();
    expect(pixelsOf(shown.at(-1))).toEqual(Array.from({ length: 3 }, () => [red, red, red, red]));
    expect(screen.counters).toMatchObject({ scanouts: 1, bytes: 6 * 4 * 3 });

    screen.update(1, 1, 2, 1, (2 + 1) * 4, PIXMAN_A8R8G8B8, rows(2, 1, BLUE, 1));
    screen.flush();
    expect(pixelsOf(shown.at(-1))).toEqual([
      [red, red, red, red],
      [red, blue, blue, red],
      [red, red, red, red],
    ]);

    // A band of whole rows, as QEMU's VGA sends them, is written straight from the message.
    screen.update(0, 2, 4, 1, 4 * 4, PIXMAN_A8R8G8B8, rows(4, 1, BLUE, 0));
    screen.flush();
    expect(pixelsOf(shown.at(-1))).toEqual([
      [red, red, red, red],
      [red, blue, blue, red],
      [blue, blue, blue, blue],
    ]);

    // A new Scanout replaces all of it; a resize then keeps what fits and adds black.
    screen.scanout(2, 2, 2 * 4, PIXMAN_A8R8G8B8, rows(2, 2, BLUE, 0));
    screen.resize(3, 2);
    screen.flush();
    expect(pixelsOf(shown.at(-1))).toEqual([
      [blue, blue, black],
      [blue, blue, black],
    ]);
  });
});
