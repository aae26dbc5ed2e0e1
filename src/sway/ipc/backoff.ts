import { setTimeout as sleep } from "node:timers/promises";

// Retrying a connection while the WM restarts: quick at first (i3's in-place restart is back in milliseconds),
// then slower, so a WM that is gone for good costs little.

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 50, maxDelayMs: 2000 };

/** The delay before retry number `attempt` (1-based): doubling from initialDelayMs, capped at maxDelayMs. */
function backoffDelay(attempt: number, options: BackoffOptions): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
}

export interface RetryOptions {
  backoff: BackoffOptions;
  /** Aborting stops the loop (and its pending timer) at once. */
  signal: AbortSignal;
  /** Gives up after this many failed tries; unlimited when absent. */
  maxAttempts?: number;
  onAttemptFailed(error: Error, attempt: number, nextDelayMs: number): void;
}

/**
 * Runs `attempt` until it succeeds, waiting before each try; undefined when aborted first or when `maxAttempts`
 * tries failed. A result that arrives after the abort is still returned: the caller owns it and must dispose of it.
 */
export async function retryWithBackoff<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T | undefined> {
  for (let count = 1; count <= (options.maxAttempts ?? Infinity); count++) {
    const delayMs = backoffDelay(count, options.backoff);
    try {
      await sleep(delayMs, undefined, { signal: options.signal });
    } catch (error) {
      if (options.signal.aborted) return undefined;
      throw error;
    }
    try {
      return await attempt();
    } catch (error) {
      if (options.signal.aborted) return undefined;
      options.onAttemptFailed(error as Error, count, backoffDelay(count + 1, options.backoff));
    }
  }
  return undefined;
}
