import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Gi } from "./gi.js";
import type { ScreenSize } from "./frame-checks.js";
import { surfaceOverFile } from "./screen-surface.js";

// The copy path's screen (QEMU 7.2: the pixels inside each Scanout and Update) in a memory file of the viewer's
// own, shown through a read-only mapping as the shared-memory path shows QEMU's. A message's pixels go from its
// GBytes into the file with one write of GIO's (no JS array, no JS copy, no buffer per frame), and each window
// frame draws the file's pages through the mapping (screen-surface.ts). Only a mode change makes a new file.

const BYTES_PER_PIXEL = 4;
/** statfs's f_type of tmpfs: a file there is memory, never written back to a disk. */
const TMPFS_MAGIC = 0x01021994;

/** The first directory of memory (tmpfs) the viewer may use: its runtime directory, then /dev/shm, else the temporary one. */
export function memoryFileDirectory(env: NodeJS.ProcessEnv): string {
  const candidates = [env.XDG_RUNTIME_DIR, "/dev/shm"].filter((dir): dir is string => dir !== undefined && dir !== "");
  for (const dir of candidates) {
    try {
      if (statfsSync(dir).type === TMPFS_MAGIC) return dir;
    } catch {
      // Not there or not ours: the next candidate.
    }
  }
  return tmpdir();
}

export class ScreenFile {
  readonly stride: number;
  private closed = false;

  private constructor(
    private readonly gi: Gi,
    readonly size: ScreenSize,
    /** Node's descriptor: the file's size, pread/pwrite of rows and the mapping. */
    private readonly fd: number,
    /** GIO's stream on the same file: it alone writes a GBytes without turning it into a JS array. */
    private readonly stream: GioFileStream,
    /** A cairo surface over the whole file, mapped read-only; it keeps the mapping alive while a frame uses it. */
    readonly surface: unknown,
  ) {
    this.stride = size.width * BYTES_PER_PIXEL;
  }

  /** A black screen of `size` in a fresh unlinked file of `dir` that only this process can open. */
  static create(gi: Gi, dir: string, size: ScreenSize): ScreenFile {
    const { Gio } = gi;
    const privateDir = mkdtempSync(join(dir, "clan-viewer-"));
    const path = join(privateDir, "screen");
    let fd: number | undefined;
    try {
      fd = openSync(path, "wx+", 0o600);
      const stream = Gio.File.newForPath(path).openReadwrite(null) as GioFileStream;
      ftruncateSync(fd, size.width * BYTES_PER_PIXEL * size.height);
      const surface = surfaceOverFile(gi, { fd, offset: 0, size, stride: size.width * BYTES_PER_PIXEL });
      return new ScreenFile(gi, size, fd, stream, surface);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      throw error;
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  }

  /** The file's descriptor, for the copy-path filter (which keeps a duplicate of its own). */
  get descriptor(): number {
    return this.fd;
  }

  /**
   * Writes whole rows from the start of `bytes` (a GBytes of at least `length` bytes) at row `y`: rows of the
   * screen's full width, packed at the screen's stride, as QEMU sends a band of its screen.
   */
  writeRows(y: number, bytes: unknown, length: number): void {
    const { GLib } = this.gi;
    const end = Math.min(length, (this.size.height - y) * this.stride);
    let written = 0;
    this.stream.seek(y * this.stride, GLib.SeekType.SET, null);
    while (written < end) {
      const rest = written === 0 && end === sizeOf(bytes) ? bytes : (bytes as GBytes).newFromBytes(written, end - written);
      const count = Number(this.stream.getOutputStream().writeBytes(rest, null));
      if (count <= 0) throw new Error(`wrote ${count} of ${end - written} bytes of pixels to the screen's memory file`);
      written += count;
    }
  }

  /** Writes `bytes` of one row at pixel (`x`, `y`). */
  writeRow(x: number, y: number, source: Buffer, from: number, bytes: number): void {
    const wrote = writeSync(this.fd, source, from, bytes, y * this.stride + x * BYTES_PER_PIXEL);
    if (wrote !== bytes) throw new Error(`wrote ${wrote} of ${bytes} bytes of a row to the screen's memory file`);
  }

  /** Copies the pixels both screens have, row by row, from `previous` (a mode change keeps what still fits). */
  copyOverlap(previous: ScreenFile): void {
    const rowBytes = Math.min(this.size.width, previous.size.width) * BYTES_PER_PIXEL;
    const row = Buffer.alloc(rowBytes);
    for (let y = 0; y < Math.min(this.size.height, previous.size.height); y++) {
      const read = readSync(previous.fd, row, 0, rowBytes, y * previous.stride);
      if (read !== rowBytes) throw new Error(`read ${read} of ${rowBytes} bytes of a row back from the screen's memory file`);
      this.writeRow(0, y, row, 0, rowBytes);
    }
  }

  /** Closes the descriptors; the mapping, and so the file's memory, goes once the last frame drawn from it is freed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close(null);
    closeSync(this.fd);
  }
}

interface GBytes {
  newFromBytes(offset: number, length: number): unknown;
}

interface GioFileStream {
  seek(offset: number, type: number, cancellable: null): boolean;
  getOutputStream(): { writeBytes(bytes: unknown, cancellable: null): number | bigint };
  close(cancellable: null): boolean;
}

function sizeOf(bytes: unknown): number {
  return Number((bytes as { getSize(): number | bigint }).getSize());
}
