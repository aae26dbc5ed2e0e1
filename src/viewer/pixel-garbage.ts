import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// Each frame the viewer shows is a GdkMemoryTexture (and, on the copy path, a GBytes of its pixels) held by a
// node-gtk wrapper. V8 does not see those pixels and collects by what its own heap holds, which a viewer hardly
// grows: the wrappers of frames long replaced stayed uncollected, and a guest redrawing its screen grew the viewer by a frame at a time (17 GiB
// within minutes in the display benchmark). So the viewer counts the pixel bytes it hands to GTK and collects the
// young generation, where a frame's wrappers are, after every COLLECT_AFTER_BYTES of them.

/** About ten 1024x768 frames: the viewer then holds at most this much of frames it no longer shows. */
export const COLLECT_AFTER_BYTES = 32 * 1024 * 1024;

export class PixelGarbage {
  private handedOver = 0;

  constructor(
    private readonly collect: () => void,
    private readonly limit = COLLECT_AFTER_BYTES,
  ) {}

  /** `bytes` more pixels are held by node-gtk objects: a frame's texture, or a message of QEMU's and its data. */
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
