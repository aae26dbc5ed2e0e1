import { readFile } from "node:fs/promises";
import { z } from "zod";
import { errorMessage } from "../shared/errors.js";
import { MAX_FIGURE_PROBLEMS, MAX_PROBLEM_CHARS, type VmFigures } from "../shared/monitoring-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { QmpCommandError } from "./qmp-client.js";
import { measureGuestMemory, NO_GUEST_MEMORY, type GuestMemory } from "./guest-memory-report.js";
import { measured, problem, type Measured, type QmpCall } from "./measured.js";

// A running VM's figures, measured when asked (nothing here runs on a timer): CPU time and resident memory of its
// QEMU process from /proc, disk bytes from QMP query-blockstats, the balloon's size from QMP query-balloon, the
// guest's own memory figures from its balloon statistics (guest-memory-report.ts), and network bytes from the
// guest agent's guest-network-get-interfaces: QEMU 7.2 has no QMP counter for a netdev. What the guest says
// (its agent's replies, its balloon statistics) is its word: bounded, validated, and a bad reply costs those
// figures only, named as a problem.

/** Linux's USER_HZ, the unit of utime and stime in /proc/PID/stat, is 100 on every architecture QEMU runs on here. */
const CLOCK_TICKS_PER_SECOND = 100;
const MAX_GUEST_INTERFACES = 256;

const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** QEMU's CPU time in seconds from /proc/PID/stat (utime + stime, fields 14 and 15). */
export function parseCpuSeconds(stat: string): Measured<number> {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: fields count from the last ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 1).trim().split(/\s+/);
  const [utime, stime] = [rest[11], rest[12]].map((field) => Number(field));
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) return problem("CPU: /proc/PID/stat has no utime and stime");
  return measured((utime! + stime!) / CLOCK_TICKS_PER_SECOND);
}

/** QEMU's resident memory in bytes from /proc/PID/status (`VmRSS:  1234 kB`). */
export function parseResidentBytes(status: string): Measured<number> {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? measured(Number(match[1]) * 1024) : problem("memory: /proc/PID/status has no VmRSS");
}

const BlockStats = z
  .array(z.object({ stats: z.object({ rd_bytes: byteCount, wr_bytes: byteCount }).loose() }).loose())
  .max(1024);

/** Bytes read and written over all of the VM's block devices, from QMP query-blockstats. */
export function sumBlockStats(reply: unknown): Measured<{ read: number; written: number }> {
  const parsed = BlockStats.safeParse(reply);
  if (!parsed.success) return problem("disk: QMP query-blockstats answered something else than a list of block statistics");
  return measured(parsed.data.reduce((sum, device) => ({ read: sum.read + device.stats.rd_bytes, written: sum.written + device.stats.wr_bytes }), { read: 0, written: 0 }));
}

const Balloon = z.object({ actual: byteCount }).loose();

export function parseBalloon(reply: unknown): Measured<number> {
  const parsed = Balloon.safeParse(reply);
  return parsed.success ? measured(parsed.data.actual) : problem("balloon: QMP query-balloon answered without `actual`");
}

const GuestInterfaces = z
  .array(
    z
      .object({
        name: z.string().max(256),
        statistics: z.object({ "rx-bytes": byteCount, "tx-bytes": byteCount }).loose().optional(),
      })
      .loose(),
  )
  .max(MAX_GUEST_INTERFACES);

/** Bytes received and sent by the guest's interfaces but loopback, from the guest agent's guest-network-get-interfaces. */
export function sumGuestInterfaces(reply: unknown): Measured<{ received: number; sent: number }> {
  const parsed = GuestInterfaces.safeParse(reply);
  if (!parsed.success) {
    return problem(`network: the guest agent's interface list is malformed (${parsed.error.issues[0]?.path.join(".") || "value"}: ${parsed.error.issues[0]?.message ?? "invalid"})`);
  }
  const interfaces = parsed.data.filter((item) => item.name !== "lo");
  // A guest without a network interface moves no bytes.
  if (interfaces.length === 0) return measured({ received: 0, sent: 0 });
  // qemu-ga 7.2 counts only the interfaces that have an address.
  const counted = interfaces.filter((item) => item.statistics);
  if (counted.length === 0) return problem("network: the guest agent gives no counters for the guest's interfaces (it counts only those with an address)");
  const sum = counted.reduce((total, item) => ({ received: total.received + item.statistics!["rx-bytes"], sent: total.sent + item.statistics!["tx-bytes"] }), { received: 0, sent: 0 });
  if (!Number.isSafeInteger(sum.received) || !Number.isSafeInteger(sum.sent)) return problem("network: the guest agent's counters add up past 2^53");
  return measured(sum);
}

/** The balloon's size, or -1 without a balloon device (QEMU's DeviceNotActive): that is no problem, only absent. */
async function balloonOf(qmp: QmpCall): Promise<Measured<number>> {
  try {
    return parseBalloon(await qmp("query-balloon"));
  } catch (error) {
    if (error instanceof QmpCommandError && error.errorClass === "DeviceNotActive") return measured(-1);
    throw error;
  }
}

export interface FigureSources {
  network: string;
  pid: number;
  /** QMP commands; undefined while the VM has no QMP connection. */
  qmp: QmpCall | undefined;
  guestInterfaces: () => Promise<unknown>;
  now: () => number;
  readProc?: (path: string) => Promise<string>;
}

async function attempt<T>(what: string, run: () => Promise<Measured<T>>): Promise<Measured<T>> {
  try {
    return await run();
  } catch (error) {
    return problem(`${what}: ${errorMessage(error)}`);
  }
}

/** Reads every figure at once; one that fails is -1 and named in `problems`, the others stand. */
export async function measureVmFigures(sources: FigureSources): Promise<VmFigures> {
  const readProc = sources.readProc ?? ((path: string) => readFile(path, "utf8"));
  const { qmp } = sources;
  const noQmp = <T>(): Promise<Measured<T>> => Promise.resolve(problem("QMP is not connected"));
  const [cpu, memory, disk, balloon, guestMemory, net] = await Promise.all([
    attempt("CPU", async () => parseCpuSeconds(await readProc(`/proc/${sources.pid}/stat`))),
    attempt("memory", async () => parseResidentBytes(await readProc(`/proc/${sources.pid}/status`))),
    qmp ? attempt("disk", async () => sumBlockStats(await qmp("query-blockstats"))) : noQmp<{ read: number; written: number }>(),
    qmp ? attempt("balloon", () => balloonOf(qmp)) : noQmp<number>(),
    qmp ? attempt("guest memory", () => measureGuestMemory(qmp)) : noQmp<GuestMemory>(),
    attempt("network", async () => sumGuestInterfaces(await sources.guestInterfaces())),
  ]);
  const problems = [cpu, memory, disk, balloon, guestMemory, net]
    .flatMap((result) => (result.ok ? [] : [terminalSafe(result.problem, { maxChars: MAX_PROBLEM_CHARS })]))
    .slice(0, MAX_FIGURE_PROBLEMS);
  const guestReport = guestMemory.ok ? guestMemory.value : NO_GUEST_MEMORY;
  return {
    network: sources.network,
    sampledAt: sources.now(),
    cpuSeconds: cpu.ok ? cpu.value : -1,
    memoryBytes: memory.ok ? memory.value : -1,
    balloonBytes: balloon.ok ? balloon.value : -1,
    guestMemoryTotalBytes: guestReport.totalBytes,
    guestMemoryUsedBytes: guestReport.usedBytes,
    diskReadBytes: disk.ok ? disk.value.read : -1,
    diskWriteBytes: disk.ok ? disk.value.written : -1,
    netReceivedBytes: net.ok ? net.value.received : -1,
    netSentBytes: net.ok ? net.value.sent : -1,
    problems,
  };
}
