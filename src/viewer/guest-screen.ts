import type { Gi } from "./gi.js";
import { checkScanout, checkUpdate, type ScreenSize } from "./frame-checks.js";
import type { FrameSink } from "./qemu-display.js";

// The guest's screen as textures, never as JS byte arrays: each Scanout's and Update's pixels go from the D-Bus
// message's GBytes straight into a GdkMemoryTexture. Updates are drawn over the last screen by GSK and the result
// becomes the next screen, once per frame of the window.
//
// x8r8g8b8's fourth byte is padding (QEMU leaves it 0). Read as premultiplied B8G8R8A8 it is a pixel of alpha 0
// whose colour, drawn over opaque black, is exactly the guest's colour: hence the black under every layer.

export interface ScreenView {
  show(texture: unknown, size: ScreenSize): void;
  hide(): void;
  /** Draws a node into a texture, with the window's renderer. */
  render(node: unknown): unknown;
  log(message: string): void;
  closed(): void;
}

export class GuestScreen implements FrameSink {
  size: ScreenSize = { width: 0, height: 0 };
  private base: unknown;
  private pending: { texture: unknown; x: number; y: number; width: number; height: number }[] = [];
  /** Frames and bytes received, for bench/ and tests. */
  readonly counters = { scanouts: 0, updates: 0, bytes: 0, shown: 0 };

  constructor(
    private readonly gi: Gi,
    private readonly view: ScreenView,
  ) {}

  scanout(width: number, height: number, stride: number, format: number, data: unknown): void {
    const bytes = data as { getSize(): number | bigint };
    const length = Number(bytes.getSize());
    checkScanout({ width, height }, stride, format, length);
    this.size = { width, height };
    this.base = this.texture(width, height, stride, bytes);
    this.pending = [];
    this.counters.scanouts++;
    this.counters.bytes += length;
    this.view.show(this.base, this.size);
    this.counters.shown++;
  }

  update(x: number, y: number, width: number, height: number, stride: number, format: number, data: unknown): void {
    const bytes = data as { getSize(): number | bigint };
    const length = Number(bytes.getSize());
    checkUpdate(this.size, { x, y, width, height }, stride, format, length);
    this.pending.push({ texture: this.texture(width, height, stride, bytes), x, y, width, height });
    this.counters.updates++;
    this.counters.bytes += length;
  }

  disable(): void {
    this.base = undefined;
    this.pending = [];
    this.view.hide();
  }

  closed(): void {
    this.view.closed();
  }

  refused(what: string, error: unknown): void {
    this.view.log(`refused QEMU's ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Called once per frame of the window: folds the updates received since into the screen shown. */
  flush(): void {
    if (this.pending.length === 0 || this.base === undefined) return;
    const { Gtk, Gdk, Graphene } = this.gi;
    const rect = (x: number, y: number, w: number, h: number) => new Graphene.Rect().init(x, y, w, h);
    const black = new Gdk.RGBA({ red: 0, green: 0, blue: 0, alpha: 1 });
    const snapshot = Gtk.Snapshot.new();
    snapshot.appendTexture(this.base, rect(0, 0, this.size.width, this.size.height));
    for (const update of this.pending) {
      snapshot.appendColor(black, rect(update.x, update.y, update.width, update.height));
      snapshot.appendTexture(update.texture, rect(update.x, update.y, update.width, update.height));
    }
    this.pending = [];
    this.base = this.view.render(snapshot.toNode());
    this.view.show(this.base, this.size);
    this.counters.shown++;
  }

  private texture(width: number, height: number, stride: number, bytes: unknown): unknown {
    const { Gdk } = this.gi;
    return Gdk.MemoryTexture.new(width, height, Gdk.MemoryFormat.B8G8R8A8_PREMULTIPLIED, bytes, stride);
  }
}
