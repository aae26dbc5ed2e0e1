import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Gi } from "../../src/viewer/gi.js";

// A screen surface's pixels as the tests compare them, read through cairo's own PNG writer and GDK's loader:
// node-gtk's Gdk.pixbufGetFromSurface destroys the surface it is given (a reference too many), so the tests go
// around it.

/** The pixels of `surface` (a node-gtk cairo.ImageSurface) as "r,g,b" strings, row by row. */
export function pixelsOfSurface(gi: Gi, surface: unknown): string[][] {
  const dir = mkdtempSync(join(tmpdir(), "clan-surface-pixels-"));
  try {
    const path = join(dir, "surface.png");
    (surface as { writeToPng(path: string): void }).writeToPng(path);
    const pixbuf = gi.Gdk.pixbufGetFromTexture(gi.Gdk.Texture.newFromFilename(path));
    const data = pixbuf.readPixelBytes().getData() as number[];
    const stride = pixbuf.getRowstride() as number;
    const channels = pixbuf.getNChannels() as number;
    return Array.from({ length: pixbuf.getHeight() as number }, (_, y) =>
      Array.from({ length: pixbuf.getWidth() as number }, (_, x) => data.slice(y * stride + x * channels, y * stride + x * channels + 3).join(",")),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
