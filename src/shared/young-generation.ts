import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// node-gtk frees a GObject only when V8 collects its JS wrapper, and V8 collects by what its own heap holds. A GTK
// process's heap hardly grows, so what hangs on an uncollected wrapper (a frame's pixels in clan-viewer) can wait
// for good. Such a process collects its young generation, where short-lived wrappers are, when it knows it has
// dropped some: well under a millisecond.

/** Collects V8's young generation; Node offers it only behind --expose-gc, which can be set while running. */
export function youngGenerationCollector(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (options: { type: "minor" }) => void;
  return () => gc({ type: "minor" });
}
