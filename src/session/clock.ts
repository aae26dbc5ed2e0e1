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
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};
