import { nativePart } from "./native-part.js";
import type { Gi } from "./gi.js";
import type { ScreenSize } from "./frame-checks.js";

// The guest's screen as cairo draws it: an RGB24 image surface over a read-only mapping of a memory file, made by
// the viewer's native part (native/screen-surface.cc, built into dist/viewer/ by `npm run build`). Cairo ignores
// x8r8g8b8's padding byte and draws the rows with pixman's plain copy, where a GdkMemoryTexture costs GTK 4.8 a
// conversion through floats every frame (docs/display.md).

interface ScreenSurfaceModule {
  surfaceOverFile(fd: number, offset: number, width: number, height: number, stride: number): unknown;
}

const native = () => nativePart<ScreenSurfaceModule>("screen-surface", "screen surface");

export interface MappedRows {
  fd: number;
  /** Where the first row starts in the file. */
  offset: number;
  size: ScreenSize;
  /** Bytes from one row's start to the next's. */
  stride: number;
}

/**
 * A cairo.ImageSurface (node-gtk's) over the rows of a memory file, mapped read-only; the file must hold every row
 * now. The mapping lasts as long as the surface, which any frame still drawn from it keeps alive; `fd` may be
 * closed at once.
 */
export function surfaceOverFile(gi: Gi, { fd, offset, size, stride }: MappedRows): unknown {
  const surface = native().surfaceOverFile(fd, offset, size.width, size.height, stride);
  return new gi.cairo.ImageSurface(surface);
}
