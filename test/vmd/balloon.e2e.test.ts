import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VmFigures } from "../../src/shared/monitoring-api.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";

// The balloon of a VM clan-vmd starts, with the test guest's real virtio_balloon driver: QMP query-balloon gives
// the VM's memory, the guest's own memory report arrives through clan-vmd's Figures and matches what the guest's
// /proc/meminfo says, and memory the guest frees goes back to the host (free-page-reporting): QEMU's resident
// memory falls after the guest deletes a file it had filled its tmpfs with. Without free-page-reporting it stays
// up: Linux hands nothing back by itself. How a lying guest's report is bounded: guest-memory-report.test.ts.

const needs = ["qemu-system-x86_64", "dbus-daemon"];
const MIB = 1024 * 1024;
const VM_MIB = 256;
const FILL_MIB = 96;
const NETWORK = `balloon${process.pid}`;

describe.skipIf(!needs.every(hasBinary))(`the VM's balloon: the guest's memory report, and memory handed back ${skipReason(...needs)}`, () => {
  let stack: VmdStack;
  const figures = (): Promise<VmFigures> => stack.api.figures(NETWORK);
  const guest = async (script: string) => {
    const run = await stack.api.guestExec(NETWORK, ["/bin/sh", "-c", script], 60);
    expect(run.exitCode, `${script}: ${run.stderr}`).toBe(0);
    return run.stdout;
  };

  beforeAll(async () => {
    stack = await startVmdStack({ tmpPrefix: "clan-balloon-" });
    const generation = await makeGeneration(join(stack.root, "generation"), { generation: "balloon-1", vm: { memoryMiB: VM_MIB, stateDiskMiB: 0, network: { mode: "none" } } });
    expect((await stack.api.start(NETWORK, generation)).state).toBe("running");
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("has a balloon the VM's size, and the guest's own memory report, as its /proc/meminfo has it", async () => {
    const first = await figures();
    expect(first.balloonBytes).toBe(VM_MIB * MIB);
    const reported = await waitUntil(async () => {
      const sample = await figures();
      return sample.guestMemoryTotalBytes > 0 ? sample : undefined;
    }, "the guest's first memory report", 60_000);
    expect(reported.problems).toEqual([]);
    // The kernel keeps some of the VM's memory for itself: the total is somewhat below the VM's memory.
    expect(reported.guestMemoryTotalBytes).toBeGreaterThan((VM_MIB - 64) * MIB);
    expect(reported.guestMemoryTotalBytes).toBeLessThanOrEqual(VM_MIB * MIB);
    expect(reported.guestMemoryUsedBytes).toBeGreaterThan(0);
    expect(reported.guestMemoryUsedBytes).toBeLessThan(reported.guestMemoryTotalBytes);
    const memTotalKiB = Number(/^MemTotal:\s+(\d+) kB$/m.exec(await guest("cat /proc/meminfo"))?.[1]);
    expect(reported.guestMemoryTotalBytes).toBe(memTotalKiB * 1024);
  }, 120_000);

  it("follows the guest filling its memory, and QEMU's resident memory falls again when the guest frees it", async () => {
    const before = await figures();
    await guest(`dd if=/dev/zero of=/run/balloon-fill bs=1M count=${FILL_MIB} 2>/dev/null`);
    // The guest's report comes every 2 s; the file's pages are in it once the driver has answered after the dd.
    const filled = await waitUntil(async () => {
      const sample = await figures();
      return sample.guestMemoryUsedBytes >= before.guestMemoryUsedBytes + (FILL_MIB - 16) * MIB ? sample : undefined;
    }, `the guest's report to count the ${FILL_MIB} MiB file`, 60_000);
    // Every page of the file was written, so QEMU holds it.
    expect(filled.memoryBytes).toBeGreaterThan(FILL_MIB * MIB);

    await guest("rm /run/balloon-fill");
    // The guest reports free blocks of 2 MiB and more a few seconds after they are freed; QEMU discards them.
    const handedBack = await waitUntil(async () => {
      const sample = await figures();
      return sample.memoryBytes < filled.memoryBytes - (FILL_MIB / 2) * MIB ? sample : undefined;
    }, `QEMU's resident memory to fall from ${(filled.memoryBytes / MIB).toFixed(1)} MiB`, 90_000);
    expect(handedBack.guestMemoryUsedBytes).toBeLessThan(filled.guestMemoryUsedBytes - (FILL_MIB - 16) * MIB);
  }, 240_000);
});
