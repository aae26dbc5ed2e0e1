import { closeSync, fstatSync } from "node:fs";
import type { Gi } from "./gi.js";
import { checkScanoutMap, type ScreenSize } from "./frame-checks.js";
import { surfaceOverFile } from "./screen-surface.js";

// The guest's screen on the shared-memory path (QEMU ≥ 9.2, org.qemu.Display1.Listener.Unix.Map): QEMU passes the
// framebuffer's memory file once per mode (ScanoutMap) and afterwards only names what changed (UpdateMap). The
// viewer maps the file read-only and each frame draws the guest's pixels straight from that mapping
// (screen-surface.ts): no byte of the framebuffer crosses a socket or passes through JS.

export interface SharedFrame {
  fd: number;
  offset: number;
  size: ScreenSize;
  stride: number;
  format: number;
}

export class SharedFramebuffer {
  private constructor(
    readonly size: ScreenSize,
    /** A cairo surface over the screen's rows inside the mapping; it keeps the mapping alive while a frame uses it. */
    readonly surface: unknown,
  ) {}

  /**
   * Maps QEMU's memory file read-only after checking the frame against the file's real size. `fd` is closed in
   * every case: the mapping outlives it, and a refused frame must not leak it.
   */
  static map(gi: Gi, { fd, offset, size, stride, format }: SharedFrame): SharedFramebuffer {
    try {
      const file = fstatSync(fd);
      // A memfd is a regular file; anything else (a pipe, a device) has no size to check the frame against.
      const fileSize = file.isFile() ? file.size : -1;
      checkScanoutMap(size, stride, format, offset, fileSize);
      // The native part checks the file's size again right before it maps it: the file could have shrunk since.
      return new SharedFramebuffer(size, surfaceOverFile(gi, { fd, offset, size, stride }));
    } finally {
      closeSync(fd);
    }
  }
}
