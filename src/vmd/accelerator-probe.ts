import { constants } from "node:fs";
import { access, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { release } from "node:os";
import { dirname } from "node:path";
import { execa } from "execa";
import { z } from "zod";
import type { Accelerator } from "./qemu-command.js";

// /dev/kvm existing does not mean KVM boots a guest: on PVM-backed hosts a stock kernel hangs after
// "KASLR disabled" and `-cpu host` aborts. So the probe boots the real kernel without an initrd under KVM: the
// kernel panics for want of a root filesystem, reboots (panic=-1) and QEMU exits (-no-reboot). Reaching that
// exit within the time limit proves KVM works; a hang or an abort means TCG. The answer is cached per host
// kernel and QEMU binary, so the probe runs once, not at every VM start.

const CacheEntry = z.object({ key: z.string(), accelerator: z.enum(["kvm", "tcg"]), reason: z.string() });
export type ProbeResult = z.infer<typeof CacheEntry>;

export interface ProbeOptions {
  qemuBinary: string;
  kernel: string;
  cacheFile: string;
  timeoutMs?: number;
}

export async function chooseAccelerator(options: ProbeOptions): Promise<ProbeResult> {
  const key = await cacheKey(options.qemuBinary);
  const cached = await readCache(options.cacheFile);
  if (cached?.key === key) return cached;
  const result = { key, ...(await probe(options)) };
  await mkdir(dirname(options.cacheFile), { recursive: true });
  await writeFile(options.cacheFile, JSON.stringify(result));
  return result;
}

async function probe({ qemuBinary, kernel, timeoutMs = 8000 }: ProbeOptions): Promise<Omit<ProbeResult, "key">> {
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return { accelerator: "tcg", reason: "/dev/kvm is missing or not accessible" };
  }
  const run = await execa(
    qemuBinary,
    ["-accel", "kvm", "-cpu", "host", "-m", "128M", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
      "-serial", "stdio", "-kernel", kernel, "-append", "console=ttyS0 panic=-1 quiet"],
    { timeout: timeoutMs, reject: false, stdin: "ignore", all: true },
  );
  if (run.timedOut) return { accelerator: "tcg", reason: `a KVM guest did not reach its kernel panic within ${timeoutMs} ms` };
  if (run.failed) {
    // QEMU's last words when it said any; otherwise why it could not run or how it died.
    const lastLine = (run.all ?? "").split("\n").filter(Boolean).slice(-1)[0];
    const how = run.originalMessage || (run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`);
    return { accelerator: "tcg", reason: `QEMU with KVM failed: ${lastLine ?? how}` };
  }
  return { accelerator: "kvm", reason: "a KVM guest booted its kernel" };
}

async function cacheKey(qemuBinary: string): Promise<string> {
  const info = await stat(qemuBinary).catch(() => undefined);
  return `${release()}|${qemuBinary}|${info?.mtimeMs ?? "missing"}`;
}

async function readCache(file: string): Promise<ProbeResult | undefined> {
  try {
    return CacheEntry.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return undefined;
  }
}

export function parseAcceleratorOverride(value: string | undefined): Accelerator | undefined {
  if (value === undefined || value === "" || value === "auto") return undefined;
  if (value === "kvm" || value === "tcg") return value;
  throw new Error(`accelerator must be kvm, tcg or auto, not ${JSON.stringify(value)}`);
}
