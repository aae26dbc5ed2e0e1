import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkScanoutMap, PIXMAN_X8R8G8B8 } from "../../src/viewer/frame-checks.js";
import type { GBytesReader } from "../../src/viewer/gbytes-reader.js";
import type { Gi } from "../../src/viewer/gi.js";
import { PixelGarbage } from "../../src/viewer/pixel-garbage.js";
import { GuestScreen, type ScreenView } from "../../src/viewer/guest-screen.js";
import { SharedFramebuffer, type SharedFrame } from "../../src/viewer/shared-screen.js";
import { surfaceOverFile } from "../../src/viewer/screen-surface.js";
import { pixelsOfSurface } from "./surface-pixels.js";

// The shared-memory path's checks, played as a hostile QEMU (whose numbers come, in the end, from the guest): a
// ScanoutMap whose rows reach past the memory file, a descriptor that is no file, absurd sizes and strides, and
// UpdateMaps that do not fit. Each must be refused without reading a byte outside the file, the descriptor closed
// either way, and the last good picture kept. The mapping is the viewer's native screen surface's
// (src/viewer/native/screen-surface.cc, built by npm run build), wrapped by node-gtk's cairo.

const nodeGtk = await import("node-gtk").then(
  (module) => module.default,
  () => undefined,
);
const gi = nodeGtk === undefined ? undefined : ({ GLib: nodeGtk.require("GLib", "2.0"), Gdk: nodeGtk.require("Gdk", "4.0"), cairo: nodeGtk.require("cairo") } as unknown as Gi);
const WIDTH = 720;
const HEIGHT = 400;
const STRIDE = WIDTH * 4;

describe("the checks of a ScanoutMap's numbers against QEMU's memory file", () => {
  const size = { width: WIDTH, height: HEIGHT };

  it("takes a frame whose rows lie inside the file", () => {
    expect(() => checkScanoutMap(size, STRIDE, PIXMAN_X8R8G8B8, 0, STRIDE * HEIGHT)).not.toThrow();
    expect(() => checkScanoutMap(size, STRIDE + 64, PIXMAN_X8R8G8B8, 4096, 4096 + (STRIDE + 64) * HEIGHT)).not.toThrow();
  });

  it("refuses rows that reach one byte past the file, or start past it", () => {
    expect(() => checkScanoutMap(size, STRIDE, PIXMAN_X8R8G8B8, 1, STRIDE * HEIGHT)).toThrow(/do not fit QEMU's memory file/);
    expect(() => checkScanoutMap(size, STRIDE, PIXMAN_X8R8G8B8, 0xffffffff, STRIDE * HEIGHT)).toThrow(/do not fit/);
    expect(() => checkScanoutMap(size, STRIDE, PIXMAN_X8R8G8B8, 0, 0)).toThrow(/do not fit/);
    // fstat of something that is no regular file: the caller passes -1.
    expect(() => checkScanoutMap(size, STRIDE, PIXMAN_X8R8G8B8, 0, -1)).toThrow(/do not fit/);
  });

  it("refuses absurd sides, a stride shorter than a row or far longer, and an unknown pixel format", () => {
    expect(() => checkScanoutMap({ width: 0xffffffff, height: 1 }, 0xffffffff, PIXMAN_X8R8G8B8, 0, Number.MAX_SAFE_INTEGER)).toThrow(/outside/);
    expect(() => checkScanoutMap({ width: 0, height: HEIGHT }, STRIDE, PIXMAN_X8R8G8B8, 0, STRIDE * HEIGHT)).toThrow(/outside/);
    expect(() => checkScanoutMap(size, STRIDE - 1, PIXMAN_X8R8G8B8, 0, STRIDE * HEIGHT)).toThrow(/stride/);
    expect(() => checkScanoutMap(size, 0xffffffff, PIXMAN_X8R8G8B8, 0, Number.MAX_SAFE_INTEGER)).toThrow(/stride/);
    expect(() => checkScanoutMap(size, STRIDE, 0x10020565, 0, STRIDE * HEIGHT)).toThrow(/pixel format/);
  });
});

describe.skipIf(gi === undefined)(`the shared framebuffer, mapped by the native screen surface${gi === undefined ? " [skipped: node-gtk did not build]" : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "clan-shared-screen-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A file standing in for QEMU's memfd, `length` bytes long. */
  const memoryFile = (length: number): number => {
    const path = join(dir, `fb-${length}`);
    const fd = openSync(path, "w+");
    writeSync(fd, Buffer.alloc(length, 0x40));
    rmSync(path);
    return fd;
  };
  const frame = (fd: number, changes: Partial<SharedFrame> = {}): SharedFrame => ({ fd, offset: 0, size: { width: WIDTH, height: HEIGHT }, stride: STRIDE, format: PIXMAN_X8R8G8B8, ...changes });
  const isClosed = (fd: number) => {
    try {
      fstatSync(fd);
      return false;
    } catch {
      return true;
    }
  };

  it("maps a good frame and closes the descriptor, the mapping outliving it", () => {
    const fd = memoryFile(STRIDE * HEIGHT);
    const shared = SharedFramebuffer.map(gi!, frame(fd));
    expect(isClosed(fd)).toBe(true);
    const surface = shared.surface as { getWidth(): number; getHeight(): number; getStride(): number };
    expect([surface.getWidth(), surface.getHeight(), surface.getStride()]).toEqual([WIDTH, HEIGHT, STRIDE]);
    // The file's bytes are all 0x40: B, G and R of 0x40, the fourth byte (padding) ignored.
    expect(new Set(pixelsOfSurface(gi!, surface).flat())).toEqual(new Set(["64,64,64"]));
  });

  it("refuses a frame that reaches past the file, and a descriptor that is no file, closing it either way", () => {
    const short = memoryFile(STRIDE * HEIGHT - 1);
    expect(() => SharedFramebuffer.map(gi!, frame(short))).toThrow(/do not fit QEMU's memory file of 1151999 bytes/);
    expect(isClosed(short)).toBe(true);
    const offset = memoryFile(STRIDE * HEIGHT);
    expect(() => SharedFramebuffer.map(gi!, frame(offset, { offset: 4 }))).toThrow(/do not fit/);
    expect(isClosed(offset)).toBe(true);
    const device = openSync("/dev/zero", "r");
    expect(() => SharedFramebuffer.map(gi!, frame(device))).toThrow(/memory file of -1 bytes/);
    expect(isClosed(device)).toBe(true);
    const directory = openSync(dir, "r");
    expect(() => SharedFramebuffer.map(gi!, frame(directory))).toThrow(/do not fit/);
    expect(isClosed(directory)).toBe(true);
  });

  it("is refused by the native part itself when the file no longer holds the rows or a number is not a whole one", () => {
    const size = { width: WIDTH, height: HEIGHT };
    // The file shrank after the frame was checked: the native part looks at it again right before it maps it.
    const shrunk = memoryFile(STRIDE * HEIGHT);
    ftruncateSync(shrunk, STRIDE * HEIGHT - 1);
    expect(() => surfaceOverFile(gi!, { fd: shrunk, offset: 0, size, stride: STRIDE })).toThrow(/do not fit the memory file of 1151999 bytes/);
    closeSync(shrunk);
    const fd = memoryFile(STRIDE * HEIGHT + 4096);
    expect(() => surfaceOverFile(gi!, { fd, offset: 0, size, stride: STRIDE + 2 })).toThrow(/not a whole number of pixels/);
    expect(() => surfaceOverFile(gi!, { fd, offset: 0, size, stride: STRIDE - 4 })).toThrow(/stride .* is not an integer in 2880\.\.6976/);
    expect(() => surfaceOverFile(gi!, { fd, offset: 0.5, size, stride: STRIDE })).toThrow(/offset 0\.5/);
    expect(() => surfaceOverFile(gi!, { fd, offset: 0, size: { width: 0, height: HEIGHT }, stride: STRIDE })).toThrow(/width 0/);
    expect(() => surfaceOverFile(gi!, { fd: Number.NaN, offset: 0, size, stride: STRIDE })).toThrow(/fd nan/);
    closeSync(fd);
  });

  it("keeps the last good picture when QEMU sends a bad ScanoutMap or UpdateMap, and counts no bytes copied", () => {
    const shown: unknown[] = [];
    const logged: string[] = [];
    let changes = 0;
    const sizes: string[] = [];
    const view: ScreenView = {
      changed: () => changes++,
      show: (surface) => shown.push(surface),
      hide: () => undefined,
      resized: (size, previous) => sizes.push(`${previous.width}x${previous.height} -> ${size.width}x${size.height}`),
      log: (message) => logged.push(message),
      closed: () => undefined,
    };
    const screen = new GuestScreen(gi!, {} as GBytesReader, view, new PixelGarbage(() => undefined), tmpdir());
    expect(() => screen.updateMap(0, 0, 1, 1)).toThrow(/no shared framebuffer/);

    screen.scanoutMap(frame(memoryFile(STRIDE * HEIGHT)));
    // The window is told to draw a frame (without it, an idle window never flushes), and draws it at that frame.
    expect([changes, shown.length]).toEqual([1, 0]);
    screen.flush();
    expect(shown).toHaveLength(1);
    screen.updateMap(0, 0, WIDTH, HEIGHT);
    expect(changes).toBe(2);
    screen.flush();
    expect(shown).toHaveLength(2);

    const hostile = memoryFile(16);
    expect(() => screen.scanoutMap(frame(hostile, { size: { width: 4096, height: 4096 }, stride: 4096 * 4 }))).toThrow(/do not fit/);
    expect(isClosed(hostile)).toBe(true);
    expect(() => screen.updateMap(WIDTH - 1, 0, 2, 1)).toThrow(/outside/);
    expect(() => screen.updateMap(-1, 0, 1, 1)).toThrow(/outside/);
    expect(screen.size).toEqual({ width: WIDTH, height: HEIGHT });
    expect(shown).toHaveLength(2);
    // The window was told of the one mode that was taken, so that it can show it 1:1; the refused one changed nothing.
    expect(sizes).toEqual([`0x0 -> ${WIDTH}x${HEIGHT}`]);

    // The good mapping is still the screen's: a later damage is drawn from it.
    screen.updateMap(0, 0, 8, 8);
    screen.flush();
    expect(shown).toHaveLength(3);
    expect(screen.counters).toMatchObject({ scanouts: 0, updates: 0, scanoutMaps: 1, updateMaps: 2, bytes: 0, shown: 3 });
  });
});
