import type { Gi } from "./gi.js";
import { ClanError } from "../shared/errors.js";
import { checkRect, checkScanout, checkUpdate, PIXMAN_X8R8G8B8, type PixelRect, type ScreenSize } from "./frame-checks.js";
import type { GBytesReader } from "./gbytes-reader.js";
import { CopyPathFilter, type CopiedChanges } from "./copy-path-filter.js";
import type { ListenerSink } from "./qemu-display.js";
import type { PixelGarbage } from "./pixel-garbage.js";
import { ScreenFile } from "./screen-file.js";
import { SharedFramebuffer, type SharedFrame } from "./shared-screen.js";

// The guest's screen, handed to the window once per frame of it as a cairo surface over a mapping
// (screen-surface.ts). On the copy path (QEMU 7.2: the pixels inside each Scanout and Update message) the mapping
// is of a memory file of the viewer's that the messages' pixels are written into (screen-file.ts); on the
// shared-memory path (QEMU ≥ 9.2: ScanoutMap and UpdateMap) it is of QEMU's own framebuffer (shared-screen.ts).

const BYTES_PER_PIXEL = 4;

export interface ScreenView {
  /** The screen has changed since the last flush: the window should flush it at its next frame. */
  changed(): void;
  /** Draws `surface` (a cairo surface of the screen's `size`) at the window's next frame. */
  show(surface: unknown, size: ScreenSize): void;
  /** The guest's screen took a new size (a mode change). */
  resized(size: ScreenSize, previous: ScreenSize): void;
  hide(): void;
  log(message: string): void;
  closed(): void;
}

export class GuestScreen implements ListenerSink {
  size: ScreenSize = { width: 0, height: 0 };
  /** The copy path's screen; null before the first frame and while QEMU shares its framebuffer. */
  private file: ScreenFile | null = null;
  /** Set while QEMU shares its framebuffer. */
  private shared: SharedFramebuffer | null = null;
  /** Writes the plain Scanouts and Updates into `file` on GDBus's thread (copy-path-filter.ts); null before QEMU connects. */
  private copyPath: CopyPathFilter | null = null;
  private dirty = false;
  /**
   * Messages received, bytes of framebuffer that came inside them (0 on the shared-memory path), frames shown, and
   * the messages the copy-path filter wrote itself (of scanouts and updates), for bench/ and tests.
   */
  readonly counters = { scanouts: 0, updates: 0, scanoutMaps: 0, updateMaps: 0, bytes: 0, shown: 0, filtered: 0 };

  constructor(
    private readonly gi: Gi,
    private readonly reader: GBytesReader,
    private readonly view: ScreenView,
    private readonly garbage: PixelGarbage,
    /** Where the copy path's memory file is made (memoryFileDirectory). */
    private readonly memoryDir: string,
  ) {}

  listening(connection: unknown): void {
    this.copyPath?.close();
    this.copyPath = new CopyPathFilter(connection, (changes) => this.copied(changes));
    this.copyPath.setTarget(this.shared === null ? this.file : null);
  }

  /** The copy-path filter wrote these messages' pixels into the screen's file. */
  private copied({ scanouts, updates, bytes }: CopiedChanges): void {
    this.counters.scanouts += scanouts;
    this.counters.updates += updates;
    this.counters.bytes += bytes;
    this.counters.filtered += scanouts + updates;
    this.markDirty();
  }

  scanout(width: number, height: number, stride: number, format: number, data: unknown): void {
    const length = sizeOf(data);
    checkScanout({ width, height }, stride, format, length);
    this.shared = null;
    // A Scanout of the screen's own size (QEMU 7.2 sends one for each update of the whole screen) reuses its file.
    if (this.file === null || width !== this.size.width || height !== this.size.height) this.replaceFile({ width, height }, false);
    this.setSize({ width, height });
    this.copy({ x: 0, y: 0, width, height }, stride, data, length);
    this.counters.scanouts++;
    this.counters.bytes += length;
    this.garbage.shown(length);
  }

  /**
   * QEMU shares its framebuffer. A frame that does not fit its memory file is refused (the caller logs it) and the
   * last good picture stays; a good one replaces the previous mapping, which is dropped at once.
   */
  scanoutMap(frame: SharedFrame): void {
    const next = SharedFramebuffer.map(this.gi, frame);
    this.copyPath?.setTarget(null);
    this.shared = next;
    this.setSize(next.size);
    this.file?.close();
    this.file = null;
    this.counters.scanoutMaps++;
    this.markDirty();
  }

  /** The guest changed this rectangle of the shared framebuffer: the next window frame shows it. */
  updateMap(x: number, y: number, width: number, height: number): void {
    if (this.shared === null) throw new ClanError("InvalidArgument", "an UpdateMap came with no shared framebuffer mapped");
    checkRect(this.shared.size, { x, y, width, height });
    this.counters.updateMaps++;
    this.markDirty();
  }

  /** The console's new size: the pixels that still fit stay, the rest is black until the guest draws it. */
  resize(width: number, height: number): void {
    // A shared framebuffer's size is the one its ScanoutMap gave.
    if (this.shared !== null) return;
    if (this.file !== null && width === this.size.width && height === this.size.height) return;
    try {
      checkScanout({ width, height }, width * BYTES_PER_PIXEL, PIXMAN_X8R8G8B8, width * height * BYTES_PER_PIXEL);
    } catch (error) {
      this.refused("console size", error);
      return;
    }
    this.replaceFile({ width, height }, true);
    this.setSize({ width, height });
    this.markDirty();
  }

  update(x: number, y: number, width: number, height: number, stride: number, format: number, data: unknown): void {
    const length = sizeOf(data);
    // QEMU went back to copying (a surface it cannot share): the screen starts black at the mapped size.
    this.shared = null;
    // The signal of a mode change travels on the bus, the updates on the listener's own connection: an update
    // of a larger new mode may come first. The screen grows to hold it (within MAX_SIDE, as any mode the guest
    // could choose) and takes its exact size when the signal arrives. Asking QEMU here would deadlock: this runs
    // while GDBus's one worker thread waits for it.
    const grown = { width: Math.max(this.size.width, x + width), height: Math.max(this.size.height, y + height) };
    if (this.file === null || grown.width !== this.size.width || grown.height !== this.size.height) this.resize(grown.width, grown.height);
    checkUpdate(this.size, { x, y, width, height }, stride, format, length);
    this.copy({ x, y, width, height }, stride, data, length);
    this.counters.updates++;
    this.counters.bytes += length;
    this.garbage.shown(length);
  }

  disable(): void {
    this.shared = null;
    this.dirty = false;
    this.view.hide();
  }

  closed(): void {
    this.copyPath?.close();
    this.copyPath = null;
    this.view.closed();
  }

  refused(what: string, error: unknown): void {
    this.view.log(`refused QEMU's ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Called once per frame of the window: shows the screen if anything changed since. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const surface = this.shared?.surface ?? this.file?.surface;
    if (surface === undefined) return;
    this.view.show(surface, this.size);
    this.counters.shown++;
  }

  /** Writes a checked rectangle of a message's pixels into the screen's file. */
  private copy({ x, y, width, height }: PixelRect, stride: number, data: unknown, length: number): void {
    const file = this.file!;
    const rowBytes = width * BYTES_PER_PIXEL;
    if (x === 0 && width === file.size.width && stride === file.stride) {
      // A band of whole rows, laid out as the file's: one write, straight from the message (how QEMU's VGA updates come).
      file.writeRows(y, data, height * stride);
    } else {
      const source = this.reader.read(data, length);
      for (let row = 0; row < height; row++) file.writeRow(x, y + row, source, row * stride, rowBytes);
    }
    this.markDirty();
  }

  /** A black screen of `size` in a new file; with `keep`, the pixels of the previous one that still fit. */
  private replaceFile(size: ScreenSize, keep: boolean): void {
    // Until the new file is in place every message waits for this thread in the JS filter, in order.
    this.copyPath?.setTarget(null);
    const previous = this.file;
    const next = ScreenFile.create(this.gi, this.memoryDir, size);
    if (keep && previous !== null) next.copyOverlap(previous);
    previous?.close();
    this.file = next;
    this.copyPath?.setTarget(next);
  }

  private setSize(size: ScreenSize): void {
    const previous = this.size;
    this.size = size;
    if (size.width !== previous.width || size.height !== previous.height) this.view.resized(size, previous);
  }

  private markDirty(): void {
    if (!this.dirty) this.view.changed();
    this.dirty = true;
  }
}

function sizeOf(data: unknown): number {
  return Number((data as { getSize(): number | bigint }).getSize());
}
