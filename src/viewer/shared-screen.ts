import { closeSync, fstatSync } from "node:fs";
import type { Gi } from "./gi.js";
import { checkScanoutMap, type ScreenSize } from "./frame-checks.js";

// The guest's screen on the shared-memory path (QEMU ≥ 9.2, org.qemu.Display1.Listener.Unix.Map): QEMU passes the
// framebuffer's memory file once per mode (ScanoutMap) and afterwards only names what changed (UpdateMap). The
// viewer maps the file read-only and each frame's texture reads the guest's pixels straight from that mapping: no
// byte of the framebuffer crosses a socket or passes through JS.

export interface SharedFrame {
  fd: number;
  offset: number;
  size: ScreenSize;
  stride: number;
  format: number;
}

export class SharedFramebuffer {
  private constructor(
    private readonly gi: Gi,
    readonly size: ScreenSize,
    private readonly stride: number,
    /** A GBytes over the screen's rows inside the mapping; it keeps the mapping alive while a texture uses it. */
    private readonly rows: unknown,
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
      const mapping = gi.GLib.MappedFile.newFromFd(fd, false);
      // The file could have shrunk between fstat and mmap: the mapping's own length is the one that counts.
      const mappedLength = Number(mapping.getLength());
      checkScanoutMap(size, stride, format, offset, mappedLength);
      const rows = mapping.getBytes().newFromBytes(offset, stride * size.height);
      return new SharedFramebuffer(gi, size, stride, rows);
    } finally {
      closeSync(fd);
    }
  }

  /** A texture of the screen as it is in QEMU's memory now; GTK reads the mapping when it draws it. */
  texture(): unknown {
    const { Gdk } = this.gi;
    // x8r8g8b8 read as premultiplied B8G8R8A8 over black: see guest-screen.ts.
    return Gdk.MemoryTexture.new(this.size.width, this.size.height, Gdk.MemoryFormat.B8G8R8A8_PREMULTIPLIED, this.rows, this.stride);
  }
}
