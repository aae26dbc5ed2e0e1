import { describe, expect, it } from "vitest";
import { measureGuestMemory, NO_GUEST_MEMORY, parseGuestMemory, parseMemorySize } from "../../src/vmd/guest-memory-report.js";
import { QmpCommandError } from "../../src/vmd/qmp-client.js";

// The guest's balloon statistics as QEMU passes them on and as a hostile guest may fill them: a guest sends any
// 64-bit value for each statistic, QEMU's reply carries it as a JSON number. The real guest's report:
// balloon.e2e.test.ts.

const MIB = 1024 * 1024;
const VM_MEMORY = 256 * MIB;
/** 2^64 − 1, QEMU's "not reported", after JSON.parse. */
const UNSET = JSON.parse("18446744073709551615") as number;

function stats(values: Record<string, number>, lastUpdate = 1796316134) {
  const all = { "stat-swap-in": 0, "stat-swap-out": 0, "stat-major-faults": 0, "stat-minor-faults": 2591, "stat-disk-caches": 9424896, "stat-htlb-pgalloc": 0, "stat-htlb-pgfail": 0, ...values };
  return { stats: all, "last-update": lastUpdate };
}

describe("the guest's memory report (the guest's word)", () => {
  it("reads total and used (total less available) from what the Linux driver sends", () => {
    const reply = stats({ "stat-total-memory": 228999168, "stat-available-memory": 195461120, "stat-free-memory": 192126976 });
    expect(parseGuestMemory(reply, VM_MEMORY)).toEqual({ ok: true, value: { totalBytes: 228999168, usedBytes: 228999168 - 195461120 } });
  });

  it("falls back to free memory when the guest sends no available figure", () => {
    const reply = stats({ "stat-total-memory": 200 * MIB, "stat-available-memory": UNSET, "stat-free-memory": 150 * MIB });
    expect(parseGuestMemory(reply, VM_MEMORY)).toEqual({ ok: true, value: { totalBytes: 200 * MIB, usedBytes: 50 * MIB } });
  });

  it("is no report, and no problem, before the driver answers or when it leaves a figure unset", () => {
    const never = stats({ "stat-total-memory": UNSET, "stat-available-memory": UNSET, "stat-free-memory": UNSET }, 0);
    expect(parseGuestMemory(never, VM_MEMORY)).toEqual({ ok: true, value: NO_GUEST_MEMORY });
    const noTotal = stats({ "stat-total-memory": UNSET, "stat-available-memory": 10 * MIB });
    expect(parseGuestMemory(noTotal, VM_MEMORY)).toEqual({ ok: true, value: NO_GUEST_MEMORY });
    const noFree = stats({ "stat-total-memory": 200 * MIB, "stat-available-memory": UNSET, "stat-free-memory": UNSET });
    expect(parseGuestMemory(noFree, VM_MEMORY)).toEqual({ ok: true, value: NO_GUEST_MEMORY });
  });

  it("shows nothing of absurd values: 2^63, negative, fractional, used past total, total past the VM", () => {
    const absurd = [
      { "stat-total-memory": 2 ** 63, "stat-available-memory": 0 },
      { "stat-total-memory": -5, "stat-available-memory": 0 },
      { "stat-total-memory": 200.5, "stat-available-memory": 0 },
      { "stat-total-memory": 100 * MIB, "stat-available-memory": -1 },
    ];
    for (const values of absurd) {
      expect(parseGuestMemory(stats(values), VM_MEMORY), JSON.stringify(values)).toEqual({ ok: true, value: NO_GUEST_MEMORY });
    }
    expect(parseGuestMemory(stats({ "stat-total-memory": VM_MEMORY + 1, "stat-available-memory": 0 }), VM_MEMORY)).toEqual({
      ok: false,
      problem: `guest memory: the guest reports ${VM_MEMORY + 1} bytes in all, more than the VM's ${VM_MEMORY}; not shown`,
    });
    expect(parseGuestMemory(stats({ "stat-total-memory": 100 * MIB, "stat-available-memory": 101 * MIB }), VM_MEMORY)).toEqual({
      ok: false,
      problem: `guest memory: the guest reports ${101 * MIB} bytes available of ${100 * MIB} in all; not shown`,
    });
    // At the bounds: all of the VM's memory, all of it used, none of it used.
    expect(parseGuestMemory(stats({ "stat-total-memory": VM_MEMORY, "stat-available-memory": 0 }), VM_MEMORY)).toEqual({ ok: true, value: { totalBytes: VM_MEMORY, usedBytes: VM_MEMORY } });
    expect(parseGuestMemory(stats({ "stat-total-memory": VM_MEMORY, "stat-available-memory": VM_MEMORY }), VM_MEMORY)).toEqual({ ok: true, value: { totalBytes: VM_MEMORY, usedBytes: 0 } });
  });

  it("names a reply that is not QEMU's statistics", () => {
    const notNumbers = [Number.NaN, Number.POSITIVE_INFINITY, "1"].map((total) => ({ stats: { "stat-total-memory": total }, "last-update": 1 }));
    for (const reply of [null, "stats", { stats: {} }, { "last-update": 1 }, ...notNumbers]) {
      expect(parseGuestMemory(reply, VM_MEMORY), JSON.stringify(reply)).toEqual({ ok: false, problem: "guest memory: the balloon's statistics are not what QEMU sends" });
    }
  });

  it("takes the VM's memory from QEMU, base plus plugged", () => {
    expect(parseMemorySize({ "base-memory": VM_MEMORY, "plugged-memory": 0 })).toEqual({ ok: true, value: VM_MEMORY });
    expect(parseMemorySize({ "base-memory": VM_MEMORY })).toEqual({ ok: true, value: VM_MEMORY });
    expect(parseMemorySize({}).ok).toBe(false);
  });
});

describe("asking QEMU", () => {
  const qmpWith = (balloon: "present" | "absent") => async (command: string, args?: Record<string, unknown>) => {
    if (command === "query-memory-size-summary") return { "base-memory": VM_MEMORY, "plugged-memory": 0 };
    if (command === "qom-get" && args?.path === "/machine/peripheral/balloon" && args.property === "guest-stats") {
      if (balloon === "absent") throw new QmpCommandError(command, "DeviceNotFound", "Device '/machine/peripheral/balloon' not found");
      return stats({ "stat-total-memory": 200 * MIB, "stat-available-memory": 150 * MIB });
    }
    throw new Error(`unexpected ${command}`);
  };

  it("reads the balloon device's statistics", async () => {
    expect(await measureGuestMemory(qmpWith("present"))).toEqual({ ok: true, value: { totalBytes: 200 * MIB, usedBytes: 50 * MIB } });
  });

  it("is no report for a VM without a balloon device (started by an older clan-vmd)", async () => {
    expect(await measureGuestMemory(qmpWith("absent"))).toEqual({ ok: true, value: NO_GUEST_MEMORY });
  });
});
