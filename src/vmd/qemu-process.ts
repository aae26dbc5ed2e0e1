import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { ClanError } from "../shared/errors.js";

// Process-level helpers for QEMU. QEMU runs detached in its own process group so that it outlives clan-vmd
// (re-adoption after a daemon restart); liveness is therefore checked by pid, which works for children and
// adopted processes alike.

/** `inherited` become the child's fds 3, 4, …; the caller still owns (and closes) them. */
export function spawnDetached(binary: string, args: string[], outputFile: string, inherited: number[] = [], cwd?: string): number {
  const output = openSync(outputFile, "a");
  try {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", output, output, ...inherited], ...(cwd ? { cwd } : {}) });
    if (child.pid === undefined) throw new ClanError("QemuFailed", `could not start ${binary}`);
    child.on("error", () => {
      // The spawn error surfaces as the process being dead; the caller reports QEMU's own output instead.
    });
    child.unref();
    return child.pid;
  } finally {
    closeSync(output);
  }
}

/**
 * Whether the process still runs. A zombie counts as exited: an adopted QEMU whose parent is gone is reaped by
 * init, one we spawned by libuv, and between exit and reaping it only looks alive.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  return !/\) Z /.test(stat);
}

/** Guards against pid reuse: the pid must still be the QEMU we started for this network. */
export async function isQemuOf(pid: number, network: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.split("\0").includes(`clan-${network},process=clan-${network}`);
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(25);
  }
  return !isAlive(pid);
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export async function readTail(file: string, maxBytes: number): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.length > maxBytes ? text.slice(text.length - maxBytes) : text;
}
