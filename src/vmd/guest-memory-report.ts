import { z } from "zod";
import { BALLOON_QOM_PATH } from "./qemu-command.js";
import { QmpCommandError } from "./qmp-client.js";
import { measured, problem, type Measured, type QmpCall } from "./measured.js";

// The guest's own memory figures, from the statistics its balloon driver sends QEMU (qom-get `guest-stats` on the
// balloon device). Every number in them is the guest's word: a hostile guest may claim more memory than the VM
// has, more available than in all, or 2^64. They are bounded by what the host knows (the VM's memory, from QMP
// query-memory-size-summary) and used for display only; nothing on the host acts on them.

export interface GuestMemory {
  totalBytes: number;
  usedBytes: number;
}

/** No report: a guest without a balloon driver, one that has not answered yet, or a VM without a balloon device. */
export const NO_GUEST_MEMORY: GuestMemory = { totalBytes: -1, usedBytes: -1 };

const GuestStats = z
  .object({
    stats: z
      .object({
        "stat-total-memory": z.number().optional(),
        "stat-available-memory": z.number().optional(),
        "stat-free-memory": z.number().optional(),
      })
      .loose(),
    /** Host time in seconds when the guest last answered; 0 for never. */
    "last-update": z.number(),
  })
  .loose();

const MemorySize = z.object({ "base-memory": z.number().int().nonnegative(), "plugged-memory": z.number().int().nonnegative().optional() }).loose();

/**
 * A statistic the guest has not sent is 2^64 − 1 in QEMU's reply, which JSON makes 2^64; a guest may send any
 * 64-bit value itself. Only a whole number of bytes below 2^53 is a report.
 */
function reported(value: number | undefined): number | undefined {
  return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The guest's total and used memory from its balloon statistics, bounded by `vmMemoryBytes`, the VM's memory. */
export function parseGuestMemory(statsReply: unknown, vmMemoryBytes: number): Measured<GuestMemory> {
  const parsed = GuestStats.safeParse(statsReply);
  if (!parsed.success) return problem("guest memory: the balloon's statistics are not what QEMU sends");
  if (parsed.data["last-update"] === 0) return measured(NO_GUEST_MEMORY);
  const { stats } = parsed.data;
  const total = reported(stats["stat-total-memory"]);
  const available = reported(stats["stat-available-memory"]) ?? reported(stats["stat-free-memory"]);
  if (total === undefined || available === undefined) return measured(NO_GUEST_MEMORY);
  if (total > vmMemoryBytes) {
    return problem(`guest memory: the guest reports ${total} bytes in all, more than the VM's ${vmMemoryBytes}; not shown`);
  }
  if (available > total) {
    return problem(`guest memory: the guest reports ${available} bytes available of ${total} in all; not shown`);
  }
  return measured({ totalBytes: total, usedBytes: total - available });
}

/** The VM's memory as QEMU has it (QMP query-memory-size-summary): the host's figure, not the guest's. */
export function parseMemorySize(reply: unknown): Measured<number> {
  const parsed = MemorySize.safeParse(reply);
  if (!parsed.success) return problem("guest memory: QMP query-memory-size-summary answered without `base-memory`");
  const bytes = parsed.data["base-memory"] + (parsed.data["plugged-memory"] ?? 0);
  return Number.isSafeInteger(bytes) ? measured(bytes) : problem("guest memory: the VM's memory size is past 2^53");
}

/** The guest's report, or none for a VM without a balloon device (one an older clan-vmd started). */
export async function measureGuestMemory(qmp: QmpCall): Promise<Measured<GuestMemory>> {
  const [size, stats] = await Promise.all([
    qmp("query-memory-size-summary"),
    qmp("qom-get", { path: BALLOON_QOM_PATH, property: "guest-stats" }).catch((error: unknown) => {
      if (error instanceof QmpCommandError && error.errorClass === "DeviceNotFound") return undefined;
      throw error;
    }),
  ]);
  if (stats === undefined) return measured(NO_GUEST_MEMORY);
  const vmMemory = parseMemorySize(size);
  return vmMemory.ok ? parseGuestMemory(stats, vmMemory.value) : vmMemory;
}
