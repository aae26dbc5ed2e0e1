import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { ConfigError } from "./errors.js";
import { type ConfigLoadResult, loadConfigFile } from "./load.js";
import { type Config, emptyConfig } from "./schema.js";

// Keeps the config in force in step with config.json, so that a valid edit applies without a restart and an invalid
// one changes nothing.
//
// Decisions:
// - The config in force starts as the empty config (no networks, all defaults). `start()` then loads the file and
//   publishes the outcome like any later edit: `applied(config, empty)` or `rejected(error)`. So a missing or broken
//   file at login leaves the daemon running with no networks and reporting the error, and fixing the file applies
//   it — the same path a first-time user takes when they create the file.
// - `rejected` never touches the config in force: the last good config stays, whether the file became invalid,
//   unreadable or was deleted (deleting it does not stop any network; write `{"networks": {}}` for that).
// - `applied` is emitted for every valid load, also when nothing changed; listeners apply `diffConfigs(previous,
//   config)`, which is then empty. After a `rejected`, an `applied` is also the signal that the error is gone.
// - chokidar watches the config's grandparent directory (or the nearest one that exists), filtered to the path
//   down to the file. Watching directories rather than the file sees editors that save by writing a temporary
//   file and renaming it over the original (vim, VS Code), the file or its directory being created after the
//   daemon started, and a symlinked file (home-manager) being re-pointed. A *directory* symlink being swapped is
//   not seen by chokidar; `reload()` (e.g. on SIGHUP) covers that.
// - Events are debounced, because one save is several file-system events (and chokidar drops some of them, see
//   MIN_DEBOUNCE_MS), and loads run one at a time in order, so an older read can never overwrite a newer one.

export type ConfigWatcherEvents = {
  /** A valid config is now in force. `previous` is the one it replaced. */
  applied: [config: Config, previous: Config];
  /** The file could not be used; `current` is unchanged. */
  rejected: [error: ConfigError];
  /** Watching failed, or an `applied`/`rejected` listener threw. */
  error: [error: Error];
};

export interface ConfigWatcherOptions {
  /** Quiet time after the last file-system event before the file is read again. Default 100 ms; values below
   *  MIN_DEBOUNCE_MS are raised to it. */
  readonly debounceMs?: number;
}

/** chokidar drops a change event that comes within 50 ms of the previous one for the same file. Reading only after
 *  that window has closed guarantees that the read sees a write whose event was dropped. */
export const MIN_DEBOUNCE_MS = 75;

export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> {
  readonly file: string;
  private readonly debounceMs: number;
  private config: Config = emptyConfig();
  private error: ConfigError | undefined;
  private fileSystemWatcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private loads: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(file: string, options: ConfigWatcherOptions = {}) {
    super();
    this.file = resolve(file);
    this.debounceMs = Math.max(options.debounceMs ?? 100, MIN_DEBOUNCE_MS);
  }

  /** The config in force: the last one that loaded, or the empty config if none has. */
  get current(): Config {
    return this.config;
  }

  /** Why the most recent load failed; undefined when it succeeded. */
  get lastError(): ConfigError | undefined {
    return this.error;
  }

  /** Starts watching, then loads the file and publishes the outcome. Resolves with that outcome. */
  async start(): Promise<ConfigLoadResult> {
    if (this.fileSystemWatcher || this.closed) throw new Error("ConfigWatcher.start() may be called once, before close()");
    // Watch first, load second: an edit made while the first load runs then still causes a reload.
    const root = await nearestExistingDirectory(dirname(dirname(this.file)));
    const watcher = watch(root, {
      ignoreInitial: true,
      depth: relative(root, this.file).split(sep).length - 1,
      ignored: (path) => !isOnPathTo(this.file, path),
    });
    this.fileSystemWatcher = watcher;
    watcher.on("all", () => this.scheduleReload());
    watcher.on("error", (error) => this.emit("error", asError(error)));
    await new Promise<void>((ready) => watcher.once("ready", ready));
    return this.reload();
  }

  /** Reads the file now and publishes the outcome; queued behind a load already running. */
  reload(): Promise<ConfigLoadResult> {
    const load = this.loads.then(() => this.loadAndPublish());
    this.loads = load.catch(() => undefined);
    return load;
  }

  /** Stops watching. Pending reloads are dropped, a load already running finishes without publishing, and no
   *  watcher or timer is left behind. Listeners stay attached. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    await this.fileSystemWatcher?.close();
    await this.loads;
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.reload().catch((error: unknown) => this.emit("error", asError(error)));
    }, this.debounceMs);
  }

  private async loadAndPublish(): Promise<ConfigLoadResult> {
    const result = await loadConfigFile(this.file);
    if (this.closed) return result;
    if (result.ok) {
      const previous = this.config;
      this.config = result.config;
      this.error = undefined;
      this.emit("applied", result.config, previous);
    } else {
      this.error = result.error;
      this.emit("rejected", result.error);
    }
    return result;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** True for the file itself and each directory on the way down to it. */
function isOnPathTo(file: string, path: string): boolean {
  const rest = relative(path, file);
  return rest === "" || (rest !== ".." && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

async function nearestExistingDirectory(directory: string): Promise<string> {
  for (let candidate = directory; ; candidate = dirname(candidate)) {
    const found = await stat(candidate).then(
      (stats) => stats.isDirectory(),
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" || error.code === "ENOTDIR") return false;
        throw error;
      },
    );
    if (found || candidate === dirname(candidate)) return candidate;
  }
}
