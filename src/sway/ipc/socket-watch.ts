import { statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { watchDirectory, type DirectoryWatch } from "./directory-watch.js";
import type { FoundWindowManager } from "./socket-discovery.js";

// Where sway and i3 create their IPC sockets, watched for new ones: SWAYSOCK's and I3SOCK's paths when given,
// sway-ipc.<uid>.<pid>.sock in XDG_RUNTIME_DIR, and ipc-socket.<pid> in XDG_RUNTIME_DIR/i3. Only a change of such a
// name is reported, so a socket file left behind by a window manager that died is never reported again.

export interface SocketWatchOptions {
  /** SWAYSOCK, I3SOCK and XDG_RUNTIME_DIR are read once, at the start. */
  env: NodeJS.ProcessEnv;
  /** Whose sway sockets to watch for in XDG_RUNTIME_DIR; without it, XDG_RUNTIME_DIR's sway sockets are not. */
  uid: number | undefined;
  /** A name of a window manager's socket changed there: it may be a window manager that now listens. */
  candidate(found: FoundWindowManager): void;
  /** A place could not be watched; the others still are. */
  failed(place: string, error: Error): void;
}

export interface SocketWatch {
  /** The directories watched, and which socket names in each. */
  readonly places: readonly SocketPlace[];
  close(): void;
}

export interface SocketPlace {
  kind: FoundWindowManager["kind"];
  directory: string;
  /** Matches the socket's file name in `directory`. */
  name: RegExp;
}

/** The places to watch, given the environment clan-sessiond started with. */
export function socketPlaces(env: NodeJS.ProcessEnv, uid: number | undefined): SocketPlace[] {
  const places: SocketPlace[] = [];
  for (const [variable, kind] of [["SWAYSOCK", "sway"], ["I3SOCK", "i3"]] as const) {
    const path = env[variable];
    if (path) places.push({ kind, directory: dirname(resolve(path)), name: new RegExp(`^${escapeRegExp(basename(path))}$`) });
  }
  const runtimeDir = env["XDG_RUNTIME_DIR"];
  if (runtimeDir) {
    if (uid !== undefined) places.push({ kind: "sway", directory: resolve(runtimeDir), name: new RegExp(`^sway-ipc\\.${uid}\\.\\d+\\.sock$`) });
    places.push({ kind: "i3", directory: resolve(runtimeDir, "i3"), name: /^ipc-socket\.\d+$/ });
  }
  return places;
}

/**
 * Starts a watch and calls `appeared` when a socket appears (or a place can no longer be watched, so that the
 * caller tries again rather than wait for nothing); undefined when there is no place to watch.
 */
export type SocketAppearanceWatch = (appeared: () => void) => { close(): void } | undefined;

/** Watches the places of socketPlaces(), for the environment as it is when each watch starts. */
export function windowManagerSocketAppearances(options: { env?: NodeJS.ProcessEnv; uid: number | undefined }): SocketAppearanceWatch {
  return (appeared) => {
    const env = options.env ?? process.env;
    if (socketPlaces(env, options.uid).length === 0) return undefined;
    return watchWindowManagerSockets({ env, uid: options.uid, candidate: appeared, failed: appeared });
  };
}

export function watchWindowManagerSockets(options: SocketWatchOptions): SocketWatch {
  const places = socketPlaces(options.env, options.uid);
  const watches: DirectoryWatch[] = places.map((place) => {
    const report = (name: string): void => {
      const path = join(place.directory, name);
      // A socket that went away (its window manager exited) is no candidate.
      if (place.name.test(name) && isSocket(path)) options.candidate({ kind: place.kind, path });
    };
    return watchDirectory(place.directory, {
      entryChanged: report,
      appeared: (names) => names.forEach(report),
      failed: (error) => options.failed(place.directory, error),
    });
  });
  return {
    places,
    close() {
      for (const watch of watches) watch.close();
    },
  };
}

function isSocket(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isSocket() ?? false;
  } catch {
    // Not ours to look at (EACCES): the discovery that follows could not use it either.
    return false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
