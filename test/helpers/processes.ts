import { accessSync, constants } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ResultPromise } from "execa";

// Small process and socket chores shared by the harnesses that run real components (sway, i3, Xvfb).

/**
 * Synchronous, so that `describe.skipIf(!hasBinary("sway"))` can decide while tests are being collected. An
 * absolute path (a program outside PATH, such as QEMU's virtiofsd) is checked as it is.
 */
export function hasBinary(name: string): boolean {
  if (name.startsWith("/")) return isExecutable(name);
  return (process.env["PATH"] ?? "").split(delimiter).some((dir) => isExecutable(join(dir, name)));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    // Missing or not executable: the caller looks elsewhere or skips.
    return false;
  }
}

/** A suffix for a describe() title that says why it is skipped, so that a skip is never silent. */
export function skipReason(...binaries: string[]): string {
  const missing = binaries.filter((binary) => !hasBinary(binary));
  return missing.length === 0 ? "" : ` [skipped: ${missing.join(", ")} not installed — run scripts/setup.sh]`;
}

export function isRunning(child: ResultPromise): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. Never throws for its exit status. */
export async function stopProcess(child: ResultPromise, graceMs = 2000): Promise<void> {
  if (isRunning(child)) {
    child.kill("SIGTERM");
    const exited = await Promise.race([child.then(() => true, () => true), sleep(graceMs, false)]);
    if (!exited) child.kill("SIGKILL");
  }
  // The harnesses start children with reject: false, so this settles with the result, never an exit error.
  await child;
}

/** Polls until `probe` returns something other than undefined, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** True when something accepts connections on the unix socket at `path`. */
export function acceptsConnections(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Collects a child's output for failure messages, keeping only the last `limit` characters. */
export function collectOutput(child: ResultPromise, limit = 64 * 1024): () => string {
  let output = "";
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-limit);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return () => output;
}

/** Rejects naming `what` if `promise` has not settled within `timeoutMs`, so that a hang fails fast and says why. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The process ids whose parent is `pid`, from /proc (a process that left children behind is stopped with them). */
export async function childPids(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // The parent is the 4th field of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
    // A process that exited since readdir has no stat any more: it is nobody's child now.
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}

/** The ids of the processes whose command-line arguments `matches` accepts, from /proc. */
export async function pidsWithArguments(matches: (args: string[]) => boolean): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // A process that exited since readdir has no cmdline any more.
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline !== "" && matches(cmdline.split("\0"))) found.push(Number(entry));
  }
  return found;
}
