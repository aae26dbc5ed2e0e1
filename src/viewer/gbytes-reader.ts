import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Gi } from "./gi.js";

// node-gtk turns a GBytes' contents into a JS array of numbers (about a second per megabyte). The pixels of
// QEMU's messages instead go through an unlinked file of the viewer's: GIO writes the GBytes to it and Node reads
// them back into a Buffer, two copies in the kernel at memory speed.

export class GBytesReader {
  private readonly fd: number;
  private readonly stream: { writeBytes(bytes: unknown, cancellable: null): number | bigint };
  private scratch = Buffer.alloc(0);

  constructor(gi: Gi, tmpDir: string) {
    const dir = mkdtempSync(join(tmpDir, "clan-viewer-"));
    const path = join(dir, "pixels");
    // O_APPEND: after each truncation GIO's write lands at offset 0, where the read takes it from.
    this.fd = openSync(path, "a+", 0o600);
    rmSync(dir, { recursive: true });
    this.stream = new gi.Gio.UnixOutputStream({ fd: this.fd, closeFd: false });
  }

  /** The bytes of `bytes`, valid until the next call. */
  read(bytes: unknown, length: number): Buffer {
    if (this.scratch.length < length) this.scratch = Buffer.alloc(length);
    ftruncateSync(this.fd, 0);
    this.stream.writeBytes(bytes, null);
    const read = readSync(this.fd, this.scratch, 0, length, 0);
    if (read !== length) throw new Error(`read ${read} of ${length} bytes of pixels back`);
    return this.scratch.subarray(0, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}
