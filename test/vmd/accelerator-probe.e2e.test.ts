import { accessSync, constants } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseAccelerator, type ProbeResult } from "../../src/vmd/accelerator-probe.js";
import { bootBareQemu } from "../helpers/bare-qemu.js";
import { makeGeneration, testGuestPaths } from "../helpers/test-guest.js";

// The accelerator probe on this machine's real QEMU and /dev/kvm, and proof that its choice boots a guest.
// Where /dev/kvm exists but KVM cannot boot a stock kernel (PVM-backed hosts, like these machines) the first
// probe runs into its 8 s limit and picks TCG; a working KVM reaches its kernel panic in well under a second.

const QEMU = "qemu-system-x86_64";

let root: string;
let cacheFile: string;
let chosen: ProbeResult;

function kvmAccessible(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-accel-e2e-"));
  cacheFile = join(root, "cache", "accelerator.json");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("chooseAccelerator", () => {
  it("probes, explains its choice and caches it", async () => {
    const startedAt = performance.now();
    chosen = await chooseAccelerator({ qemuBinary: QEMU, kernel: testGuestPaths().kernel, cacheFile });
    const probeMs = performance.now() - startedAt;
    console.log(`probe chose ${chosen.accelerator} in ${Math.round(probeMs)} ms: ${chosen.reason}`);
    expect(["kvm", "tcg"]).toContain(chosen.accelerator);
    expect(chosen.reason).not.toBe("");
    expect(JSON.parse(await readFile(cacheFile, "utf8"))).toEqual(chosen);
  });

  it("answers from the cache the second time, without running QEMU", async () => {
    // A cached answer marked as such, and a kernel that does not exist: a new probe would answer otherwise (and
    // name the missing kernel where it runs QEMU), so only the cache can give back the marked answer.
    const marked = { ...chosen, reason: `${chosen.reason} (marked by the test)` };
    await writeFile(cacheFile, JSON.stringify(marked));
    const again = await chooseAccelerator({ qemuBinary: QEMU, kernel: join(root, "no-such-kernel"), cacheFile });
    expect(again).toEqual(marked);
  });

  it("chooses an accelerator that boots the test guest to ready", async () => {
    const generationDir = await makeGeneration(join(root, "gen"), { generation: "accel-1", vm: { stateDiskMiB: 0 } });
    const vm = await bootBareQemu({ generationDir, accelerator: chosen.accelerator, root });
    try {
      console.log(`test guest ready under ${chosen.accelerator} after ${Math.round(vm.readyAfterMs)} ms`);
      expect(vm.readyAfterMs).toBeGreaterThan(0);
    } finally {
      await vm.stop();
    }
  });

  // Without access to /dev/kvm the probe never runs QEMU and says so instead.
  it.runIf(kvmAccessible())("names the cause when QEMU cannot run at all", async () => {
    const result = await chooseAccelerator({
      qemuBinary: join(root, "no-such-qemu"),
      kernel: testGuestPaths().kernel,
      cacheFile: join(root, "other-cache.json"),
    });
    expect(result).toMatchObject({ accelerator: "tcg", reason: `QEMU with KVM failed: spawn ${join(root, "no-such-qemu")} ENOENT` });
  });
});
