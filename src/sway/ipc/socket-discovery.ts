import { readdir, stat } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { loadExeca } from "../../shared/lazy-execa.js";
import { IpcSocketNotFoundError, describeCause } from "./errors.js";

// Finding the WM's IPC socket. The client calls its discovery function again before every reconnect, because a
// restarted sway listens on a new path (sway-ipc.<uid>.<pid>.sock), while the SWAYSOCK we inherited names the old
// one.

export type SocketDiscovery = () => Promise<string>;

export interface DefaultDiscoveryOptions {
  /** Read at every call, so a caller that updates it is heard. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** For `sway --get-socketpath` and `i3 --get-socketpath`. */
  commandTimeoutMs?: number;
  /** Whose sway sockets to look for in XDG_RUNTIME_DIR. Default: our own uid. */
  uid?: number;
}

/** A window manager's IPC socket, and which window manager listens there. */
export interface FoundWindowManager {
  kind: "sway" | "i3";
  path: string;
}

/**
 * SWAYSOCK, then I3SOCK (each only if something accepts connections there: a WM that died leaves its socket file
 * behind), then a live sway's socket in XDG_RUNTIME_DIR, then a live i3's in XDG_RUNTIME_DIR/i3, then
 * `sway --get-socketpath` and `i3 --get-socketpath` (the latter reads the X root window, so it follows i3 across
 * restarts as long as DISPLAY is right), each only when the variable it reads is set. Looking in XDG_RUNTIME_DIR is what finds a window manager whose
 * environment (SWAYSOCK, I3SOCK, DISPLAY) was never imported into clan-sessiond's.
 */
export function createDefaultSocketDiscovery(options: DefaultDiscoveryOptions = {}): SocketDiscovery {
  return async () => {
    const found = await discoverWindowManager(options);
    if ("attempts" in found) throw new IpcSocketNotFoundError(found.attempts);
    return found.path;
  };
}

/** The default discovery, also naming the window manager found; what was tried when none was. */
export async function discoverWindowManager(options: DefaultDiscoveryOptions = {}): Promise<FoundWindowManager | { attempts: string[] }> {
  const env = options.env ?? process.env;
  const commandTimeoutMs = options.commandTimeoutMs ?? 1000;
  const attempts: string[] = [];
  for (const [variable, kind] of [["SWAYSOCK", "sway"], ["I3SOCK", "i3"]] as const) {
    const path = env[variable];
    if (!path) attempts.push(`${variable} is not set`);
    else if (await acceptsConnections(path, commandTimeoutMs)) return { kind, path };
    else attempts.push(`${variable}=${path}: nothing accepts connections there`);
  }
  const runtimeDir = env["XDG_RUNTIME_DIR"];
  const uid = options.uid ?? process.getuid?.();
  if (runtimeDir && uid !== undefined) {
    const sway = await findLiveSwaySocket(runtimeDir, uid, commandTimeoutMs);
    if (sway) return { kind: "sway", path: sway };
    attempts.push(`no live sway socket in ${runtimeDir}`);
  }
  if (runtimeDir) {
    const i3 = await findLiveI3Socket(runtimeDir, commandTimeoutMs);
    if (i3) return { kind: "i3", path: i3 };
    attempts.push(`no live i3 socket in ${join(runtimeDir, "i3")}`);
  }
  // `sway --get-socketpath` prints SWAYSOCK; `i3 --get-socketpath` reads the X display: without them, no use.
  for (const [kind, needs] of [["sway", "SWAYSOCK"], ["i3", "DISPLAY"]] as const) {
    if (!env[needs]) continue;
    try {
      const { stdout } = await (await loadExeca())(kind, ["--get-socketpath"], { env, extendEnv: false, timeout: commandTimeoutMs });
      const path = stdout.trim();
      if (await acceptsConnections(path, commandTimeoutMs)) return { kind, path };
      attempts.push(`${kind} --get-socketpath gave ${JSON.stringify(path)}, where nothing accepts connections`);
    } catch (error) {
      attempts.push(`${kind} --get-socketpath failed: ${firstLine(describeCause(error))}`);
    }
  }
  return { attempts };
}

/** i3's default socket, XDG_RUNTIME_DIR/i3/ipc-socket.<pid>, of an i3 that still runs and answers. */
async function findLiveI3Socket(runtimeDir: string, probeTimeoutMs = 1000): Promise<string | undefined> {
  return newestLiveSocket(join(runtimeDir, "i3"), /^ipc-socket\.(\d+)$/, probeTimeoutMs);
}

/** The socket of the newest sway of `uid` that still runs and answers, named sway-ipc.<uid>.<pid>.sock by sway. */
export async function findLiveSwaySocket(runtimeDir: string, uid: number, probeTimeoutMs = 1000): Promise<string | undefined> {
  return newestLiveSocket(runtimeDir, new RegExp(`^sway-ipc\\.${uid}\\.(\\d+)\\.sock$`), probeTimeoutMs);
}

/** The newest socket in `directory` whose name matches `pattern` (group 1: the owner's pid) and that answers. */
async function newestLiveSocket(directory: string, pattern: RegExp, probeTimeoutMs: number): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    // No such directory means no socket in it; the caller records that and tries the next source.
    return undefined;
  }
  const candidates: { path: string; changedMs: number }[] = [];
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined || !isProcessAlive(Number(pid))) continue;
    const path = join(directory, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isSocket()) candidates.push({ path, changedMs: info.ctimeMs });
  }
  for (const { path } of candidates.sort((a, b) => b.changedMs - a.changedMs)) {
    if (await acceptsConnections(path, probeTimeoutMs)) return path;
  }
  return undefined;
}

/**
 * Connects and hangs up at once: the only sure sign that a WM listens on `path`. EAGAIN counts as listening: the
 * socket's accept queue is full (sway's holds 3), which a stale socket file never reports.
 */
function acceptsConnections(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const settle = (accepted: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.once("connect", () => settle(true));
    socket.once("error", (error: NodeJS.ErrnoException) => settle(error.code === "EAGAIN"));
  });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (root probing a user's sway).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}
