import { Socket } from "node:net";
import { nativePart } from "./native-part.js";

// The copy path's fast lane (native/copy-path-filter.cc, built into dist/viewer/ by `npm run build`): a message
// filter in C on the listener's connection that writes the pixels of QEMU 7.2's plain Scanouts and Updates into
// the screen's memory file on GDBus's own thread, without a hand-over to JS per message. It takes only messages
// that fit the current screen file exactly; every other message goes on to the JS filter (listener-calls.ts),
// which checks it in full. The JS thread hears of written pixels through a pipe, once per batch.

interface CopyPathModule {
  attach(connection: unknown): [unknown, number];
  setTarget(handle: unknown, fd: number, width: number, height: number): void;
  takeChanges(handle: unknown): [number, number, number];
  detach(handle: unknown): void;
}

/** What the filter wrote since it last said so. */
export interface CopiedChanges {
  scanouts: number;
  updates: number;
  /** Bytes of pixels that came inside those messages. */
  bytes: number;
}

/** The screen file the filter writes into: a descriptor of the file and the screen's size (rows at width × 4 bytes). */
export interface CopyTarget {
  descriptor: number;
  size: { width: number; height: number };
}

const native = () => nativePart<CopyPathModule>("copy-path-filter", "copy-path filter");

export class CopyPathFilter {
  private handle: unknown;
  private readonly wake: Socket;

  /**
   * Puts the filter on `connection` (a node-gtk Gio.DBusConnection), ahead of the filters added after it; `copied`
   * is called on the JS thread after pixels were written.
   */
  constructor(connection: unknown, copied: (changes: CopiedChanges) => void) {
    const [handle, wakeFd] = native().attach(connection);
    this.handle = handle;
    // A pipe watched by libuv, which node-gtk runs inside GLib's loop: no node-gtk callback per wake-up.
    this.wake = new Socket({ fd: wakeFd, readable: true, writable: false });
    this.wake.on("data", () => {
      if (this.handle === undefined) return;
      const [scanouts, updates, bytes] = native().takeChanges(this.handle);
      if (scanouts + updates > 0) copied({ scanouts, updates, bytes });
    });
  }

  /** From now on the filter writes into `target`; null: into nothing, every Scanout and Update goes to the JS filter. */
  setTarget(target: CopyTarget | null): void {
    if (this.handle === undefined) return;
    if (target === null) native().setTarget(this.handle, -1, 0, 0);
    else native().setTarget(this.handle, target.descriptor, target.size.width, target.size.height);
  }

  /** Removes the filter; safe to call twice. */
  close(): void {
    if (this.handle === undefined) return;
    native().detach(this.handle);
    this.handle = undefined;
    this.wake.destroy();
  }
}
