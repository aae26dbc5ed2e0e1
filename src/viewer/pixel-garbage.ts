import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// On the copy path each of QEMU's messages brings its pixels in a GBytes held by a node-gtk wrapper. V8 does not
// see those pixels and collects by what its own heap holds, which a viewer hardly grows: the wrappers of messages
// long handled stayed uncollected, and a guest redrawing its screen grew the viewer by a frame at a time (17 GiB
// within minutes in the display benchmark, when each frame was a texture of its own). So the viewer counts the
// pixel bytes it receives and collects the young generation, where the wrappers are, after every
// COLLECT_AFTER_BYTES of them.

/** About ten 1024x768 frames: the viewer then holds at most this much of messages it has handled. */
export const COLLECT_AFTER_BYTES = 32 * 1024 * 1024;

export class PixelGarbage {
  private handedOver = 0;

  constructor(
    private readonly collect: () => void,
    private readonly limit = COLLECT_AFTER_BYTES,
  ) {}

  /** `bytes` more pixels are held by node-gtk objects: a message of QEMU's and its data. */
  shown(bytes: number): void {
    this.handedOver += bytes;
    if (this.handedOver < this.limit) return;
    this.handedOver = 0;
    this.collect();
  }
}

/** Collects V8's young generation; Node offers it only behind --expose-gc, which can be set while running. */
export function youngGenerationCollector(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (options: { type: "minor" }) => void;
  return () => gc({ type: "minor" });
}
