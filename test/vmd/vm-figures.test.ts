import { describe, expect, it } from "vitest";
import { VmFigures } from "../../src/shared/monitoring-api.js";
import { QmpCommandError } from "../../src/vmd/qmp-client.js";
import { measureVmFigures, parseBalloon, parseCpuSeconds, parseResidentBytes, sumBlockStats, sumGuestInterfaces } from "../../src/vmd/vm-figures.js";

// The figures' parsing: /proc and QMP as QEMU writes them, and the guest agent's interface list as a hostile
// guest may write it (wrong types, huge numbers, too many interfaces, escape sequences in names and errors).

const STAT = "4242 (qemu-system-x86 (a) b) S 1 4242 4242 0 -1 4194560 12000 0 0 0 1234 566 0 0 20 0 5 0 100 1000 2000";

describe("the QEMU process's figures", () => {
  it("reads utime + stime after the last parenthesis of the command name", () => {
    expect(parseCpuSeconds(STAT)).toEqual({ ok: true, value: 18 });
  });

  it("names a stat line without the fields", () => {
    expect(parseCpuSeconds("4242 (qemu) S 1")).toEqual({ ok: false, problem: "CPU: /proc/PID/stat has no utime and stime" });
  });

  it("reads VmRSS in kB as bytes", () => {
    expect(parseResidentBytes("Name:\tqemu\nVmRSS:\t  204800 kB\nThreads:\t5\n")).toEqual({ ok: true, value: 204800 * 1024 });
    expect(parseResidentBytes("Name:\tqemu\n").ok).toBe(false);
  });
});

describe("QMP's figures", () => {
  it("adds up every block device's bytes", () => {
    const reply = [
      { device: "", qdev: "/machine/peripheral-anon/device[3]/virtio-backend", stats: { rd_bytes: 1000, wr_bytes: 24, rd_operations: 3 } },
      { device: "", node_name: "x", stats: { rd_bytes: 5, wr_bytes: 6 } },
    ];
    expect(sumBlockStats(reply)).toEqual({ ok: true, value: { read: 1005, written: 30 } });
    expect(sumBlockStats([])).toEqual({ ok: true, value: { read: 0, written: 0 } });
    expect(sumBlockStats({ stats: 1 }).ok).toBe(false);
    expect(sumBlockStats([{ stats: { rd_bytes: -1, wr_bytes: 0 } }]).ok).toBe(false);
  });

  it("reads the balloon's size", () => {
    expect(parseBalloon({ actual: 268435456 })).toEqual({ ok: true, value: 268435456 });
    expect(parseBalloon({}).ok).toBe(false);
  });
});

describe("the guest agent's interface list (the guest's word)", () => {
  const iface = (name: string, rx: unknown, tx: unknown) => ({ name, "hardware-address": "52:54:00:12:34:56", statistics: { "rx-bytes": rx, "tx-bytes": tx, "rx-packets": 1 } });

  it("adds up every interface but loopback", () => {
    expect(sumGuestInterfaces([iface("lo", 999, 999), iface("eth0", 100, 20), iface("wg0", 1, 2), { name: "sit0" }])).toEqual({
      ok: true,
      value: { received: 101, sent: 22 },
    });
  });

  it("refuses what a hostile guest may send, naming where", () => {
    const refused = [
      "not a list",
      [iface("eth0", "100", 1)],
      [iface("eth0", -5, 1)],
      [iface("eth0", 1.5, 1)],
      [iface("eth0", 2 ** 60, 1)],
      [{ name: "x".repeat(300), statistics: { "rx-bytes": 1, "tx-bytes": 1 } }],
      Array.from({ length: 257 }, (_, index) => iface(`eth${index}`, 1, 1)),
      [{ statistics: { "rx-bytes": 1, "tx-bytes": 1 } }],
    ];
    for (const reply of refused) {
      const result = sumGuestInterfaces(reply);
      expect(result.ok, JSON.stringify(reply).slice(0, 80)).toBe(false);
      if (!result.ok) expect(result.problem).toMatch(/^network: the guest agent's interface list is malformed/);
    }
  });

  it("counts nothing for a guest without an interface but loopback, and says so when no interface has counters", () => {
    expect(sumGuestInterfaces([iface("lo", 1, 1)])).toEqual({ ok: true, value: { received: 0, sent: 0 } });
    expect(sumGuestInterfaces([iface("lo", 1, 1), { name: "eth0" }])).toEqual({
      ok: false,
      problem: "network: the guest agent gives no counters for the guest's interfaces (it counts only those with an address)",
    });
  });

  it("refuses counters that add up past what a double holds exactly", () => {
    const big = Number.MAX_SAFE_INTEGER - 1;
    expect(sumGuestInterfaces([iface("eth0", big, 0), iface("eth1", big, 0)]).ok).toBe(false);
  });
});

describe("one sample", () => {
  const proc = async (path: string) => (path.endsWith("/stat") ? STAT : "VmRSS:\t1024 kB\n");
  // A VM without a balloon device, as an older clan-vmd started them.
  const qmp = async (command: string) => {
    if (command === "query-blockstats") return [{ stats: { rd_bytes: 10, wr_bytes: 20 } }];
    if (command === "query-memory-size-summary") return { "base-memory": 256 * 1024 * 1024, "plugged-memory": 0 };
    if (command === "qom-get") throw new QmpCommandError(command, "DeviceNotFound", "Device '/machine/peripheral/balloon' not found");
    throw new QmpCommandError(command, "DeviceNotActive", "No balloon device has been activated");
  };

  it("has every figure, and no balloon is no problem", async () => {
    const sample = await measureVmFigures({ network: "family", pid: 4242, qmp, guestInterfaces: async () => [{ name: "eth0", statistics: { "rx-bytes": 7, "tx-bytes": 8 } }], now: () => 5, readProc: proc });
    expect(VmFigures.parse(sample)).toEqual({
      network: "family",
      sampledAt: 5,
      cpuSeconds: 18,
      memoryBytes: 1024 * 1024,
      balloonBytes: -1,
      guestMemoryTotalBytes: -1,
      guestMemoryUsedBytes: -1,
      diskReadBytes: 10,
      diskWriteBytes: 20,
      netReceivedBytes: 7,
      netSentBytes: 8,
      problems: [],
    });
  });

  it("keeps the other figures when the guest agent fails or lies, its words escaped and bounded", async () => {
    const lying = await measureVmFigures({ network: "n", pid: 1, qmp, guestInterfaces: async () => ({ evil: "\u001b]0;pwned\u0007" }), now: () => 0, readProc: proc });
    expect(lying.cpuSeconds).toBe(18);
    expect(lying.diskReadBytes).toBe(10);
    expect(lying.netReceivedBytes).toBe(-1);
    expect(lying.problems).toHaveLength(1);

    const failing = await measureVmFigures({
      network: "n",
      pid: 1,
      qmp,
      guestInterfaces: async () => {
        throw new Error(`agent says \u001b[2J${"x".repeat(5000)}`);
      },
      now: () => 0,
      readProc: proc,
    });
    expect(failing.netSentBytes).toBe(-1);
    expect(failing.problems[0]).toContain("network: agent says \\x1b[2J");
    expect(failing.problems[0]!.length).toBeLessThan(400);
    expect(() => VmFigures.parse(failing)).not.toThrow();
  });

  it("has the guest's memory report beside QEMU's figures, and a lying report costs only those", async () => {
    const mib = 1024 * 1024;
    const withBalloon = (total: number, available: number) => async (command: string) => {
      if (command === "query-balloon") return { actual: 256 * mib };
      if (command === "qom-get") return { stats: { "stat-total-memory": total, "stat-available-memory": available }, "last-update": 1796316134 };
      return qmp(command);
    };
    const measure = (total: number, available: number) =>
      measureVmFigures({ network: "n", pid: 1, qmp: withBalloon(total, available), guestInterfaces: async () => [], now: () => 0, readProc: proc });

    const honest = await measure(200 * mib, 150 * mib);
    expect(honest).toMatchObject({ balloonBytes: 256 * mib, guestMemoryTotalBytes: 200 * mib, guestMemoryUsedBytes: 50 * mib, memoryBytes: 1024 * 1024, problems: [] });

    const lying = await measure(2 ** 40, 0);
    expect(lying).toMatchObject({ balloonBytes: 256 * mib, guestMemoryTotalBytes: -1, guestMemoryUsedBytes: -1, memoryBytes: 1024 * 1024, cpuSeconds: 18, diskReadBytes: 10 });
    expect(lying.problems).toEqual([`guest memory: the guest reports ${2 ** 40} bytes in all, more than the VM's ${256 * mib}; not shown`]);
    expect(() => VmFigures.parse(lying)).not.toThrow();
  });

  it("names a QEMU that is gone and no QMP", async () => {
    const sample = await measureVmFigures({
      network: "n",
      pid: 1,
      qmp: undefined,
      guestInterfaces: async () => [{ name: "eth0" }],
      now: () => 0,
      readProc: async (path) => {
        throw new Error(`ENOENT: ${path}`);
      },
    });
    expect(sample).toMatchObject({ cpuSeconds: -1, memoryBytes: -1, diskReadBytes: -1, balloonBytes: -1, guestMemoryTotalBytes: -1, guestMemoryUsedBytes: -1, netReceivedBytes: -1 });
    expect(sample.problems).toEqual([
      "CPU: ENOENT: /proc/1/stat",
      "memory: ENOENT: /proc/1/status",
      "QMP is not connected",
      "QMP is not connected",
      "QMP is not connected",
      "network: the guest agent gives no counters for the guest's interfaces (it counts only those with an address)",
    ]);
  });
});
