import type { Gi } from "./gi.js";
import { GuestScreen } from "./guest-screen.js";
import { qnumOfKeycode } from "./keymap.js";
import type { QemuDisplay } from "./qemu-display.js";
import type { GBytesReader } from "./gbytes-reader.js";
import { PixelGarbage, youngGenerationCollector } from "./pixel-garbage.js";
import type { ScreenSize } from "./frame-checks.js";
import type { GuestClipboard } from "./guest-clipboard.js";
import { copiedNotice, hostTextOfGuestClipboard } from "./clipboard-text.js";

// The viewer's window: the network's colour and label, drawn by the viewer, around the guest's pixels. The guest's
// screen is the content of one Gtk.Picture inside that frame, so whatever the guest draws is clipped to the inner
// area; the label is plain text from the user's config, never from the guest. In fullscreen the coloured border
// and the label strip stay.
//
// The window opens at the guest's screen size plus the frame, and follows the guest's mode changes while it shows
// the guest 1:1, as remote-viewer does: drawing a texture unscaled is several times cheaper than scaling it on a
// software renderer (docs/benchmarks.md). Once the user or the window manager gives it another size, that size
// stays and is asked of the guest instead.

export interface FrameStyle {
  label: string;
  /** "#rrggbb", validated by the caller. */
  colour: string;
}

const BORDER_PX = 4;
/** QEMU's InputButton for GTK's buttons 1, 2, 3. */
const BUTTONS: Record<number, number> = { 1: 0, 2: 1, 3: 2 };
const WHEEL_UP = 3;
const WHEEL_DOWN = 4;
/** How long a shown window may take to grow to a new mode of the guest. */
const FIT_MS = 2000;
/** How long a clipboard notice stays. */
const NOTICE_MS = 8000;

export class ViewerWindow {
  readonly window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly screen: GuestScreen;
  private readonly picture: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  private readonly strip: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  private requested: ScreenSize = { width: 0, height: 0 };
  /**
   * A mode the shown window is growing to: the picture asks for it as its minimum size until the window has it, or
   * until FIT_MS have passed (a tiling window manager keeps its own size). GTK 4 applies a default size only to a
   * window not shown yet.
   */
  private fitting: { size: ScreenSize; timer: NodeJS.Timeout } | undefined;
  /** The last mode of the guest the window was sized for. */
  private fittedTo: ScreenSize | undefined;
  /** The guest screen's rectangles for each frame's render nodes; made again only when the screen's size changes. */
  private bounds: { size: ScreenSize; screen: unknown; canvas: unknown } | undefined;
  private pointer = { x: 0, y: 0 };
  private frameRequested = false;
  private readonly notice: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  private noticeTimer: NodeJS.Timeout | undefined;
  /** Keys whose press was a clipboard action: their release is not the guest's either. */
  private readonly swallowed = new Set<number>();

  constructor(
    private readonly gi: Gi,
    app: unknown,
    style: FrameStyle,
    private readonly display: QemuDisplay,
    private readonly clipboard: GuestClipboard,
    reader: GBytesReader,
    memoryDir: string,
    private readonly log: (message: string) => void,
  ) {
    const { Gtk, Gdk } = gi;
    this.window = new Gtk.ApplicationWindow({ application: app });
    this.window.setTitle(`[${style.label}]`);

    const css = new Gtk.CssProvider();
    const sheet = `.clan-frame { background: ${style.colour}; padding: ${BORDER_PX}px; }
      .clan-label { color: ${contrastingText(style.colour)}; font-weight: bold; padding: 0 0 ${BORDER_PX}px 0; }
      .clan-guest { background: #000000; }`;
    css.loadFromData(sheet, -1);
    Gtk.StyleContext.addProviderForDisplay(Gdk.Display.getDefault(), css, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION);

    const frame = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL });
    frame.addCssClass("clan-frame");
    const strip = new Gtk.Box({ orientation: Gtk.Orientation.HORIZONTAL });
    this.strip = strip;
    const label = new Gtk.Label({ label: style.label, xalign: 0, hexpand: true });
    label.addCssClass("clan-label");
    strip.append(label);
    // The clipboard's notices, in the viewer's own strip: plain text (no markup), escaped and cut by their makers.
    this.notice = new Gtk.Label({ label: "", xalign: 1, useMarkup: false, ellipsize: 3 });
    this.notice.addCssClass("clan-label");
    strip.append(this.notice);
    frame.append(strip);
    this.picture = new Gtk.Picture({ hexpand: true, vexpand: true, canShrink: true, keepAspectRatio: true });
    this.picture.addCssClass("clan-guest");
    frame.append(this.picture);
    this.window.setChild(frame);

    this.screen = new GuestScreen(gi, reader, {
      changed: () => this.nextFrame(),
      show: (surface, size) => this.picture.setPaintable(this.frameOf(surface, size)),
      hide: () => this.picture.setPaintable(null),
      resized: (size) => this.fitGuest(size),
      log,
      closed: () => this.window.close(),
    }, new PixelGarbage(youngGenerationCollector()), memoryDir);
    this.window.on("realize", () => {
      // The window's size changes show as its surface's layout; the picture has its new size by the next frame.
      this.window.getSurface().on("layout", () => {
        this.nextFrame();
        if (this.fitting !== undefined) this.stopFittingOnceFit();
      });
      const clock = this.window.getFrameClock();
      clock.on("update", () => this.drawFrame());
      if (this.frameRequested) clock.requestPhase(gi.Gdk.FrameClockPhase.UPDATE);
    });
    this.nextFrame();
    this.connectInput();
  }

  /**
   * Asks for one frame, in which the window draws what changed and follows its size. One frame at a time and only
   * when asked: a tick callback left installed keeps the frame clock running, waking the viewer at the display's
   * refresh rate while nothing changes. A requested phase and the clock's signal rather than a one-shot tick
   * callback: node-gtk makes a new V8 context for every call of a callback (docs/benchmarks.md), not for a
   * signal's handler.
   */
  private nextFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    // Before the window is realized it has no clock; "realize" asks for the frame then.
    this.window.getFrameClock()?.requestPhase(this.gi.Gdk.FrameClockPhase.UPDATE);
  }

  /**
   * One frame of the guest's screen: a render node that paints `surface` unscaled, as a paintable the picture
   * scales to its area. Made in the frame clock's signal, not in a draw callback: see nextFrame.
   */
  private frameOf(surface: unknown, size: ScreenSize): unknown {
    const { Gtk, Graphene } = this.gi;
    if (this.bounds === undefined || this.bounds.size.width !== size.width || this.bounds.size.height !== size.height) {
      // Graphene's own allocator: node-gtk frees a boxed rect with graphene_rect_free, which `new Graphene.Rect()` does not match.
      const screen = Graphene.Rect.alloc();
      screen.init(0, 0, size.width, size.height);
      const canvas = Graphene.Rect.alloc();
      canvas.init(-1, -1, size.width + 2, size.height + 2);
      this.bounds = { size, screen, canvas };
    }
    const snapshot = new Gtk.Snapshot();
    // Scaled, cairo's filter blends the screen's edge pixels one pixel beyond the cairo node, onto the frame. So the
    // node is a pixel larger on every side and clipped to the screen, a clip scaled with the picture; GTK drops a
    // clip that holds its node whole.
    snapshot.pushClip(this.bounds.screen);
    const cairo = snapshot.appendCairo(this.bounds.canvas);
    cairo.setSourceSurface(surface, 0, 0);
    cairo.paint();
    snapshot.pop();
    return snapshot.toPaintable(null);
  }

  private drawFrame(): void {
    if (!this.frameRequested) return;
    this.frameRequested = false;
    this.screen.flush();
    this.followSize();
  }

  /**
   * Sizes the window to show the guest's new mode 1:1 while it follows the guest: until the user or the window
   * manager gives it a size other than the last mode it was sized for, it keeps following; after that it keeps its
   * size and the guest is asked for that size instead (followSize).
   */
  private fitGuest(size: ScreenSize): void {
    const mapped = this.window.getMapped() as boolean;
    const shown = { width: this.picture.getWidth() as number, height: this.picture.getHeight() as number };
    // Not laid out yet, still growing to the last mode, or showing it: the window follows the guest.
    const following =
      this.fittedTo === undefined || !mapped || shown.width === 0 || this.fitting !== undefined || (shown.width === this.fittedTo.width && shown.height === this.fittedTo.height);
    if (!following) {
      this.log(`the guest's screen is ${size.width}x${size.height} now; the window keeps the ${shown.width}x${shown.height} it was given`);
      return;
    }
    this.log(`sizing the window for the guest's ${size.width}x${size.height}${mapped ? ` (shown at ${shown.width}x${shown.height})` : ""}`);
    this.fittedTo = size;
    const { Gtk } = this.gi;
    const stripHeight = (this.strip.measure(Gtk.Orientation.VERTICAL, -1) as number[])[1] ?? 0;
    this.window.setDefaultSize(size.width + 2 * BORDER_PX, size.height + stripHeight + 2 * BORDER_PX);
    if (!mapped) return;
    // Shown already: a window grows to its content's minimum size (and keeps a size it has outgrown).
    this.stopFitting();
    this.picture.setSizeRequest(size.width, size.height);
    this.fitting = { size, timer: setTimeout(() => this.stopFitting(), FIT_MS) };
  }

  /** Lets the picture shrink again once the window shows the mode it grew to. */
  private stopFittingOnceFit(): void {
    const { size } = this.fitting!;
    if ((this.picture.getWidth() as number) >= size.width && (this.picture.getHeight() as number) >= size.height) this.stopFitting();
  }

  private stopFitting(): void {
    if (this.fitting === undefined) return;
    clearTimeout(this.fitting.timer);
    this.fitting = undefined;
    this.picture.setSizeRequest(-1, -1);
  }

  private connectInput(): void {
    const { Gtk } = this.gi;
    const keys = new Gtk.EventControllerKey();
    keys.on("key-pressed", (keyval: number, keycode: number, state: number) => {
      if (this.clipboardAction(keyval, state)) {
        this.swallowed.add(keycode);
        return true;
      }
      return this.key(keycode, true);
    });
    keys.on("key-released", (_keyval: number, keycode: number) => {
      if (!this.swallowed.delete(keycode)) this.key(keycode, false);
    });
    this.window.addController(keys);

    const motion = new Gtk.EventControllerMotion();
    motion.on("motion", (x: number, y: number) => this.move(x, y));
    this.picture.addController(motion);

    const click = new Gtk.GestureClick({ button: 0 });
    click.on("pressed", () => this.button(click.getCurrentButton(), true));
    click.on("released", () => this.button(click.getCurrentButton(), false));
    this.picture.addController(click);

    const scroll = new Gtk.EventControllerScroll({ flags: Gtk.EventControllerScrollFlags.VERTICAL });
    scroll.on("scroll", (_dx: number, dy: number) => {
      const wheel = dy < 0 ? WHEEL_UP : WHEEL_DOWN;
      this.display.pressButton(wheel, true);
      this.display.pressButton(wheel, false);
      return true;
    });
    this.picture.addController(scroll);
  }

  /**
   * Ctrl+Shift+C copies the guest's clipboard to the host's, Ctrl+Shift+V offers the host's to the guest; no other
   * key, focus change or guest request moves clipboard text either way. True when the key was such an action.
   */
  private clipboardAction(keyval: number, state: number): boolean {
    const { Gdk } = this.gi;
    const modifiers = state & (Gdk.ModifierType.CONTROL_MASK | Gdk.ModifierType.SHIFT_MASK | Gdk.ModifierType.ALT_MASK | Gdk.ModifierType.SUPER_MASK);
    if (modifiers !== (Gdk.ModifierType.CONTROL_MASK | Gdk.ModifierType.SHIFT_MASK)) return false;
    const key = Gdk.keyvalToLower(keyval) as number;
    if (key === Gdk.KEY_c) {
      void this.copyFromGuest().catch((error: unknown) => this.tell(`did not copy the guest's clipboard: ${messageOf(error)}`));
      return true;
    }
    if (key === Gdk.KEY_v) {
      void this.offerToGuest().catch((error: unknown) => this.tell(`did not offer the clipboard to the guest: ${messageOf(error)}`));
      return true;
    }
    return false;
  }

  private async copyFromGuest(): Promise<void> {
    const guestText = hostTextOfGuestClipboard(await this.clipboard.take());
    const { Gdk, GLib } = this.gi;
    this.window.getClipboard().setContent(Gdk.ContentProvider.newForBytes("text/plain;charset=utf-8", GLib.Bytes.new(Buffer.from(guestText.text, "utf8"))));
    this.tell(copiedNotice(guestText));
  }

  private async offerToGuest(): Promise<void> {
    const host = this.window.getClipboard();
    const text = await new Promise<string | null>((resolve, reject) => {
      host.readTextAsync(null, (_source: unknown, result: unknown) => {
        try {
          resolve(host.readTextFinish(result) as string | null);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    if (!text) {
      this.tell("the host's clipboard holds no text to offer the guest");
      return;
    }
    await this.clipboard.offer(text);
    this.tell(`offered ${[...text].length} characters to the guest`);
  }

  /** Shows a clipboard notice for a while, and logs it. */
  private tell(message: string): void {
    this.log(message);
    this.notice.setLabel(message);
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => this.notice.setLabel(""), NOTICE_MS);
  }

  private key(keycode: number, down: boolean): boolean {
    const qnum = qnumOfKeycode(keycode);
    if (qnum === undefined) return false;
    this.display.pressKey(qnum, down);
    return true;
  }

  private button(gtkButton: number, down: boolean): void {
    const button = BUTTONS[gtkButton];
    if (button !== undefined) this.display.pressButton(button, down);
  }

  /** From the picture's coordinates to the guest screen's, through the picture's scaling and centring. */
  private move(x: number, y: number): void {
    const { width, height } = this.screen.size;
    const areaWidth = this.picture.getWidth() as number;
    const areaHeight = this.picture.getHeight() as number;
    if (width === 0 || height === 0 || areaWidth === 0 || areaHeight === 0) return;
    const scale = Math.min(areaWidth / width, areaHeight / height);
    const guestX = Math.min(width - 1, Math.max(0, (x - (areaWidth - width * scale) / 2) / scale));
    const guestY = Math.min(height - 1, Math.max(0, (y - (areaHeight - height * scale) / 2) / scale));
    this.display.movePointer(guestX, guestY, guestX - this.pointer.x, guestY - this.pointer.y);
    this.pointer = { x: guestX, y: guestY };
  }

  /** The inner area's size is the resolution asked of the guest. */
  private followSize(): void {
    const width = this.picture.getWidth() as number;
    const height = this.picture.getHeight() as number;
    if (width < 1 || height < 1 || (width === this.requested.width && height === this.requested.height)) return;
    this.requested = { width, height };
    this.display.setSize(width, height);
  }
}

/** Black or white, whichever reads better on the network's colour. */
export function contrastingText(colour: string): string {
  const value = Number.parseInt(colour.slice(1), 16);
  const luminance = 0.299 * ((value >> 16) & 255) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255);
  return luminance > 140 ? "#000000" : "#ffffff";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
