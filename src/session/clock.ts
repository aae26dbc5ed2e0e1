// Time as the reconciler sees it: injected, so that its tests drive debounces, leave policies and backoffs with
// a fake clock instead of waiting.

export interface Clock {
  now(): number;
  /** Calls `callback` once after `delayMs`; the returned function cancels it. */
  after(delayMs: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(delayMs, callback) {
    let immediate: NodeJS.Immediate | undefined;
    // Node runs due timers before it reads pending I/O: after a busy moment, a debounce would expire before the
    // focus change already waiting on the window manager's socket is seen. setImmediate lets that I/O in first.
    const timer = setTimeout(() => (immediate = setImmediate(callback)), delayMs);
    return () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    };
  },
};
