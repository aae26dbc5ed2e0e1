import { existsSync } from "node:fs";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VmStatus } from "../../src/shared/vm-api.js";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// clan-vmd end to end: the real daemon on a private session bus booting the real test guest in QEMU.

let stack: VmdStack;
let root: string;
let env: Record<string, string>;
const seen: VmStatus[] = [];

async function profile(network: string, generation: string, options: Parameters<typeof makeGeneration>[1]["vm"] = {}, neverReady = false) {
  const generationDir = await makeGeneration(join(root, "store", `${network}-${generation}`), { generation, vm: options, neverReady });
  const profiles = join(root, "profiles");
  await mkdir(profiles, { recursive: true });
  await symlink(generationDir, join(profiles, `${network}-1-link`));
  await symlink(`${network}-1-link`, join(profiles, network));
  return join(profiles, network);
}

beforeAll(async () => {
  stack = await startVmdStack({
    tmpPrefix: "clan-vmd-e2e-",
    powerdownTimeoutSeconds: 2,
    onConnect: (api) =>
      api.onStateChanged((status) => seen.push(status), (error) => {
        throw error;
      }),
  });
  ({ root, env } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("clan-vmd", () => {
  it("boots a generation to ready through clanctl and publishes each transition", async () => {
    const alpha = await profile("alpha", "alpha-gen-1");
    const result = await clanctl(["vm", "start", "alpha", "--profile", alpha], env);
    expect(result.all).toBe("alpha: running");
    expect(result.exitCode).toBe(0);
    expect(seen.filter((s) => s.network === "alpha").map((s) => s.state)).toEqual(["starting", "running"]);
    const console = await readFile(join(root, "state", "alpha", "console.log"), "utf8");
    expect(console).toContain("alpha-gen-1");
    expect(existsSync(join(root, "state", "alpha", "state.qcow2"))).toBe(true);
    const listed = JSON.parse((await clanctl(["vm", "list", "--json"], env)).stdout) as VmStatus[];
    expect(listed).toMatchObject([{ network: "alpha", state: "running", accelerator: "tcg" }]);
    expect(isAlive(listed[0]!.pid)).toBe(true);
  });

  it("coalesces concurrent starts of a running VM and keeps its process", async () => {
    const before = (await stack.api.list())[0]!;
    const again = await Promise.all([stack.api.start("alpha", join(root, "profiles", "alpha")), stack.api.start("alpha", join(root, "profiles", "alpha"))]);
    expect(again.map((s) => s.pid)).toEqual([before.pid, before.pid]);
  });

  it("pauses and resumes with QMP stop and cont", async () => {
    seen.length = 0;
    expect((await clanctl(["vm", "pause", "alpha"], env)).stdout).toBe("alpha: paused");
    const pid = (await stack.api.list())[0]!.pid;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    expect(stat).toMatch(/\) [SR] /);
    expect((await clanctl(["vm", "resume", "alpha"], env)).stdout).toBe("alpha: running");
    expect(seen.map((s) => s.state)).toEqual(["paused", "running"]);
  });

  it("runs two networks' VMs at once", async () => {
    const beta = await profile("beta", "beta-gen-1", { stateDiskMiB: 0 });
    const status = await stack.api.start("beta", beta);
    expect(status.state).toBe("running");
    const states = Object.fromEntries((await stack.api.list()).map((s) => [s.network, s.state]));
    expect(states).toEqual({ alpha: "running", beta: "running" });
    expect(existsSync(join(root, "state", "beta", "state.qcow2"))).toBe(false);
  });

  it("stops a guest that ignores the power button by escalating", async () => {
    const pid = (await stack.api.list()).find((s) => s.network === "beta")!.pid;
    const status = await stack.api.stop("beta");
    expect(status.state).toBe("stopped");
    expect(isAlive(pid)).toBe(false);
    expect(stack.vmd.output()).toMatch(/ignored the power button/);
    expect(stack.vmd.output()).toMatch(/beta: stopped \((quit|sigterm|sigkill)\)/);
  });

  it("detects a QEMU killed with SIGKILL within a second and keeps the console tail", async () => {
    const pid = (await stack.api.list()).find((s) => s.network === "alpha")!.pid;
    seen.length = 0;
    const killedAt = Date.now();
    process.kill(pid, "SIGKILL");
    const failed = await waitUntil(() => seen.find((s) => s.state === "failed"), "failed state", 5000);
    expect(failed.since - killedAt).toBeLessThan(1000);
    expect(failed.error).toMatch(/QEMU exited unexpectedly; console tail:\n/);
    expect((await clanctl(["vm", "log", "alpha"], env)).stdout).toContain("alpha-gen-1");
  });

  it("restarts a failed VM and re-adopts it after clan-vmd itself restarts", async () => {
    const started = await stack.api.start("alpha", join(root, "profiles", "alpha"));
    expect(started.state).toBe("running");
    stack.client.disconnect();
    await stack.vmd.stop("SIGTERM");
    expect(isAlive(started.pid)).toBe(true);
    await stack.startVmd();
    expect(stack.vmd.output()).toContain("re-adopted running VMs: alpha");
    await stack.connect();
    const adopted = (await stack.api.list()).find((s) => s.network === "alpha")!;
    expect(adopted).toMatchObject({ state: "running", pid: started.pid, generation: started.generation });
    expect((await stack.api.pause("alpha")).state).toBe("paused");
    expect((await stack.api.resume("alpha")).state).toBe("running");
  });

  it("runs guest commands through the guest agent and snapshots the state disk of a running VM, thawed after", async () => {
    const hook = await stack.api.guestExec("alpha", ["/bin/sh", "-c", "echo hook-ran; echo oops >&2; exit 3"]);
    expect(hook).toEqual({ exitCode: 3, stdout: "hook-ran\n", stderr: "oops\n" });
    const target = join(root, "alpha-snapshot.qcow2");
    const report = await stack.api.snapshotState("alpha", target, [["/bin/sh", "-c", "echo dumped > /tmp/dump"]]);
    expect(report).toMatchObject({ method: "freeze", hooksRun: 1 });
    expect(await stack.api.guestFreezeStatus("alpha")).toBe("thawed");
    expect((await stack.api.guestExec("alpha", ["/bin/cat", "/tmp/dump"])).stdout).toBe("dumped\n");
    const check = await execa("qemu-img", ["check", target], { reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    await expect(stack.api.snapshotState("alpha", target, [["/bin/false"]])).rejects.toThrow(/pre-backup hook .*false.* failed in the guest \(exit 1\)/);
    await expect(stack.api.replaceStateDisk("alpha", target)).rejects.toThrow("stop the VM of alpha before replacing its state disk");
  });

  it("publishes a guest that powers itself off as stopped, not failed", async () => {
    const path = await profile("epsilon", "epsilon-gen-1", { stateDiskMiB: 0 });
    await stack.api.start("epsilon", path);
    seen.length = 0;
    await stack.api.guestExec("epsilon", ["/bin/sh", "-c", "(sleep 0.2; poweroff -f) >/dev/null 2>&1 &"]);
    const stopped = await waitUntil(() => seen.find((s) => s.network === "epsilon" && s.state !== "running"), "epsilon to stop", 10_000);
    expect(stopped).toMatchObject({ state: "stopped", pid: 0, error: "" });
    expect(stack.vmd.output()).toContain("epsilon: stopped (the guest powered off)");
  });

  it("reports a guest that never becomes ready as failed and leaves no process", async () => {
    const path = await profile("gamma", "gamma-gen-1", { readyTimeoutSeconds: 4, stateDiskMiB: 0 }, true);
    await expect(stack.api.start("gamma", path)).rejects.toThrow(/did not report ready within 4 s/);
    const gamma = (await stack.api.list()).find((s) => s.network === "gamma")!;
    expect(gamma.state).toBe("failed");
    expect(gamma.pid).toBe(0);
  });

  it("a QEMU killed while its guest boots fails the start with that cause, and the VM's error keeps the console tail", async () => {
    const path = await profile("zeta", "zeta-gen-1", { readyTimeoutSeconds: 120, stateDiskMiB: 0 }, true);
    const start = stack.api.start("zeta", path);
    const outcome = start.then(() => "started", (error: unknown) => error);
    const booting = await waitUntil(async () => (await stack.api.list()).find((s) => s.network === "zeta" && s.state === "starting" && s.pid > 0), "zeta's QEMU", 60_000);
    // Killed once the guest has written something: the VM's error then keeps its last words.
    await waitUntil(async () => ((await readFile(join(root, "state", "zeta", "console.log"), "utf8").catch(() => "")).trim() !== "" ? true : undefined), "zeta's console", 60_000);
    process.kill(booting.pid, "SIGKILL");
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    // Not "cancelled", as if the user had stopped it: the caller learns that QEMU went.
    expect((error as Error).message).toContain("QEMU was lost while zeta's guest was booting");
    const zeta = await waitUntil(async () => (await stack.api.list()).find((s) => s.network === "zeta" && s.state === "failed"), "zeta failed", 10_000);
    expect(zeta.error).toMatch(/^QEMU exited unexpectedly; console tail:\n/);
    expect(zeta.pid).toBe(0);
  });

  describe("bad input gets an error that names the problem, and the other VMs keep running", () => {
    it("invalid vm.json names the file and field", async () => {
      const dir = await makeGeneration(join(root, "store", "bad-vmjson"), { generation: "bad", vm: { memoryMiB: "lots" } });
      await expect(stack.api.start("delta", dir)).rejects.toThrow(`${dir}/vm.json: field memoryMiB`);
      const unknownField = await makeGeneration(join(root, "store", "bad-field"), { generation: "bad", vm: { colour: "red" } });
      await expect(stack.api.start("delta", unknownField)).rejects.toThrow(/vm\.json: field \(top level\): Unrecognized key.*colour/);
    });

    it("a missing kernel names the file", async () => {
      const dir = await makeGeneration(join(root, "store", "no-kernel"), { generation: "bad" });
      await rm(join(dir, "kernel"));
      await expect(stack.api.start("delta", dir)).rejects.toThrow(`generation is missing its kernel: ${dir}/kernel`);
    });

    it("an unknown network and an invalid name are refused", async () => {
      await expect(stack.api.stop("nosuchnet")).rejects.toThrow("no VM is known for network nosuchnet");
      const result = await clanctl(["vm", "start", "Bad;Name", "--profile", "/nonexistent"], env);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('invalid network name "Bad;Name"');
    });

    it("QEMU failing to start is reported with QEMU's own words", async () => {
      const dir = await makeGeneration(join(root, "store", "garbage-kernel"), { generation: "bad", vm: { stateDiskMiB: 0 } });
      await rm(join(dir, "kernel"));
      await writeFile(join(dir, "kernel"), "this is not a kernel");
      await expect(stack.api.start("delta", dir)).rejects.toThrow(/QEMU exited at start: .*kernel/i);
      expect((await stack.api.list()).find((s) => s.network === "delta")!.state).toBe("failed");
    });

    it("left alpha running through all of it", async () => {
      expect((await stack.api.list()).find((s) => s.network === "alpha")!.state).toBe("running");
    });
  });

  it("stops every VM when asked to shut down with stopVms, leaving no QEMU behind", async () => {
    await stack.api.start("beta", join(root, "profiles", "beta"));
    const pids = (await stack.api.list()).filter((s) => s.pid > 0).map((s) => s.pid);
    expect(pids.length).toBe(2);
    await stack.api.shutdown(true);
    expect((await stack.vmd.process).exitCode).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it("answers Shutdown before it leaves the bus, also when it keeps the VMs", async () => {
    stack.client.disconnect();
    await stack.startVmd();
    await stack.connect();
    await expect(stack.api.shutdown(false)).resolves.toBeUndefined();
    expect((await stack.vmd.process).exitCode).toBe(0);
  });
});
