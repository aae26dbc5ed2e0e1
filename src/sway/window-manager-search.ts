import { errorMessage } from "../shared/errors.js";
import type { WindowManagerBackend } from "../session/window-manager-backend.js";
import type { FoundWindowManager } from "./ipc/socket-discovery.js";
import { watchWindowManagerSockets } from "./ipc/socket-watch.js";

// Waiting for a sway or i3 that is not running yet, without polling: the socket directories are watched
// (socket-watch.ts), and only a socket that appears there starts attempts to connect. While nothing appears,
// clan-sessiond has no timer and makes no wake-up for this.

/**
 * When to try after a socket appeared, counted from the previous try. The first try is at once; a window manager
 * binds its socket a moment before it listens, so a refused connection is tried a few more times shortly after.
 * Then nothing until the next socket appears: a socket file whose window manager died never causes a loop.
 */
export const ATTEMPT_DELAYS_MS: readonly number[] = [0, 100, 400, 1600];

export interface WindowManagerSearchOptions {
  env: NodeJS.ProcessEnv;
  /** Whose sway sockets to watch for in XDG_RUNTIME_DIR. */
  uid: number | undefined;
  /** Finds the window manager that listens now, and connects to it; rejects when there is none. */
  connect(): Promise<WindowManagerBackend>;
  log(message: string): void;
  /** Aborting ends the search (and its watches) at once. */
  signal: AbortSignal;
}

/**
 * Watches for a window manager's socket and resolves with the backend connected to it; undefined when `signal`
 * aborts first. Once the watches are in place it tries once, for a window manager that appeared just before.
 */
export function searchForWindowManager(options: WindowManagerSearchOptions): Promise<WindowManagerBackend | undefined> {
  const { signal, log } = options;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let trying = false;
    /** A socket appeared while a try was running: start a new round of tries when it ends. */
    let appearedMeanwhile: FoundWindowManager | undefined;
    let settled = false;

    const finish = (backend: WindowManagerBackend | undefined): void => {
      settled = true;
      clearTimeout(timer);
      watch.close();
      signal.removeEventListener("abort", abort);
      resolve(backend);
    };
    const abort = (): void => finish(undefined);

    const schedule = (index: number, cause: FoundWindowManager | undefined): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void tryToConnect(index, cause), ATTEMPT_DELAYS_MS[index]);
    };

    const tryToConnect = async (index: number, cause: FoundWindowManager | undefined): Promise<void> => {
      timer = undefined;
      trying = true;
      let backend: WindowManagerBackend | undefined;
      let failure: unknown;
      try {
        backend = await options.connect();
      } catch (error) {
        failure = error;
      }
      trying = false;
      if (settled) {
        await backend?.close();
        return;
      }
      if (backend) {
        finish(backend);
      } else if (appearedMeanwhile) {
        const next = appearedMeanwhile;
        appearedMeanwhile = undefined;
        schedule(0, next);
      } else if (cause && index + 1 < ATTEMPT_DELAYS_MS.length) {
        schedule(index + 1, cause);
      } else if (cause) {
        log(`${cause.path} appeared, but no ${cause.kind} could be reached: ${errorMessage(failure)}; waiting for the next window manager socket`);
      }
    };

    const watch = watchWindowManagerSockets({
      env: options.env,
      uid: options.uid,
      candidate: (found) => {
        if (trying) appearedMeanwhile = found;
        else schedule(0, found);
      },
      failed: (place, error) => log(`cannot watch ${place} for a window manager's socket: ${error.message}`),
    });
    signal.addEventListener("abort", abort, { once: true });
    const directories = watch.places.map((place) => place.directory).filter(unique);
    log(
      directories.length > 0
        ? `waiting for a window manager's socket in ${directories.join(", ")}`
        : "cannot wait for a window manager: XDG_RUNTIME_DIR, SWAYSOCK and I3SOCK are unset, so no place is known to watch",
    );
    void tryToConnect(0, undefined);
  });
}

function unique(value: string, index: number, all: string[]): boolean {
  return all.indexOf(value) === index;
}
