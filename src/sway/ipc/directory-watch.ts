import { type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";

// Names appearing in a directory, told by inotify (fs.watch) rather than found by listing it again and again: an
// idle watcher costs no wake-ups. The directory may not exist yet (i3 makes XDG_RUNTIME_DIR/i3 when it first
// starts): then its nearest existing ancestor is watched until the next component on the way down appears.

export interface DirectoryWatchHandlers {
  /** A name in the directory was created, renamed, removed or changed: the caller checks what it is now. */
  entryChanged(name: string): void;
  /** The directory came into being after the watch started; `names` were in it when the watch reached it, so
   *  their own events may have come before the watch did. */
  appeared(names: string[]): void;
  /** Watching failed for a reason other than a missing directory; the watch has stopped. */
  failed(error: Error): void;
}

export interface DirectoryWatch {
  close(): void;
}

export function watchDirectory(directory: string, handlers: DirectoryWatchHandlers): DirectoryWatch {
  const target = resolve(directory);
  let current: FSWatcher | undefined;
  let closed = false;

  const stop = (): void => {
    current?.close();
    current = undefined;
  };

  /** Watches the target, or the nearest ancestor that exists; `reached` says whether the target appeared since. */
  const arm = (reached: boolean): void => {
    stop();
    for (;;) {
      const watched = nearestExistingDirectory(target);
      try {
        current = watched === target ? watchTarget() : watchAncestor(watched);
      } catch (error) {
        // Removed between the look and the watch: look again from the top.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        handlers.failed(error as Error);
        return;
      }
      current.on("error", (error) => {
        stop();
        handlers.failed(error);
      });
      if (watched === target && reached) handlers.appeared(listNames(target));
      return;
    }
  };

  const watchTarget = (): FSWatcher =>
    watch(target, { persistent: true }, (_event, name) => {
      if (closed) return;
      // An event named after the directory itself is about the directory (its removal or move: inotify's
      // IN_DELETE_SELF). The watch may be dead then even if a directory stands at the path again (rm -r and mkdir
      // in quick succession; the new one may even reuse the inode number), so watch again and take what the path
      // holds now as appeared. An entry that happens to share the directory's name costs a needless re-watch.
      if (name === null || name === basename(target)) {
        arm(true);
        return;
      }
      handlers.entryChanged(name);
    });

  const watchAncestor = (ancestor: string): FSWatcher => {
    const next = relative(ancestor, target).split(sep)[0];
    return watch(ancestor, { persistent: true }, (_event, name) => {
      if (closed) return;
      if (name === null || name === next || name === basename(ancestor)) arm(true);
    });
  };

  arm(false);
  return {
    close() {
      closed = true;
      stop();
    },
  };
}

function nearestExistingDirectory(path: string): string {
  let candidate = path;
  while (!isDirectory(candidate) && dirname(candidate) !== candidate) candidate = dirname(candidate);
  return candidate;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    // Not ours to look into (EACCES): its parent is watched instead, which is all we can do.
    return false;
  }
}

function listNames(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    // Gone again already: its removal arrives as an event of its own.
    return [];
  }
}
