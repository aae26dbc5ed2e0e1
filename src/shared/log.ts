import { terminalSafe } from "./untrusted-text.js";

// Daemons log one event per line to stderr; the service manager (or the test) keeps it. Messages often quote
// what a guest or a peer sent, so each is bounded and terminal-safe here, whatever the caller did.

const MAX_LOG_MESSAGE_CHARS = 8 * 1024;

export type Log = (message: string) => void;

export function logger(component: string): Log {
  return (message) => process.stderr.write(`${component}: ${terminalSafe(message, { multiline: true, maxChars: MAX_LOG_MESSAGE_CHARS })}\n`);
}

export interface RateLimitOptions {
  /** Messages logged per window; the rest are counted and reported once the window ends. */
  burst: number;
  windowMs: number;
}

/**
 * A log for messages an outsider can cause at will (a guest's bad lines): at most `burst` per window, then one
 * line saying how many were suppressed, so a flood neither fills the disk nor hides everything else.
 */
export function rateLimitedLog(log: Log, what: string, { burst, windowMs }: RateLimitOptions): Log {
  let logged = 0;
  let suppressed = 0;
  let window: NodeJS.Timeout | undefined;
  const endWindow = () => {
    window = undefined;
    if (suppressed > 0) log(`${suppressed} more ${what} suppressed in the last ${windowMs / 1000} s`);
    logged = 0;
    suppressed = 0;
  };
  return (message) => {
    if (!window) {
      window = setTimeout(endWindow, windowMs);
      window.unref();
    }
    if (logged < burst) {
      logged += 1;
      log(message);
    } else {
      suppressed += 1;
    }
  };
}
