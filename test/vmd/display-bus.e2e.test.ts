import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// clan-vmd's "dbus" display with the real daemon (as root, so QEMU runs under its network's own uid) and the real
// test guest: QEMU's display is on a private bus of the VM's own, which clan-vmd names in the VM status, which the
// user reaches and another network's uid does not, whose socket a QEMU taken over by its guest cannot replace, which
// survives a clan-vmd restart and goes with the VM. A vm.json that tries to name the bus itself is refused.

const needs = ["qemu-system-x86_64", "dbus-daemon", "gdbus", "setpriv"];
const asRoot = process.getuid?.() === 0 ? "" : " [skipped: needs root, for QEMU's per-network uid]";

/** The names on the bus at `address`, asked with GDBus as `uid` (GDBus, like QEMU, speaks ANONYMOUS). */
function listNames(address: string): string[] {
  return ["gdbus", "call", "-a", address, "-d", "org.freedesktop.DBus", "-o", "/", "-m", "org.freedesktop.DBus.ListNames"];
}

async function busNames(address: string) {
  const [binary, ...args] = listNames(address);
  return execa(binary!, args, { reject: false });
}

describe.skipIf(!needs.every(hasBinary) || asRoot !== "")(`clan-vmd's dbus display ${skipReason(...needs)}${asRoot}`, () => {
  let stack: VmdStack;
  let root: string;

  beforeAll(async () => {
    stack = await startVmdStack({ tmpPrefix: "clan-display-bus-e2e-" });
    root = stack.root;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("runs QEMU's display on the VM's own bus, named in the status; the user reaches it, another network's uid does not", async () => {
    const generation = await makeGeneration(join(root, "gen", "family"), { generation: "family-1", vm: { display: "dbus", stateDiskMiB: 0 } });
    const status = await stack.api.start("family", generation);
    expect(status.state).toBe("running");
    expect(status.display).toBe("dbus");
    expect(status.displaySocket).toBe(join(root, "run", "family.dbus", "bus"));
    const address = `unix:path=${status.displaySocket}`;
    const names = await busNames(address);
    expect(names.stdout, names.stderr).toContain("'org.qemu'");
    // Not on the session bus, where clan-vmd serves: QEMU never joined it.
    const sessionNames = await execa("busctl", ["--address", stack.bus.address, "list", "--no-legend"]);
    expect(sessionNames.stdout).not.toContain("org.qemu");

    const qemuUid = statSync(`/proc/${status.pid}`).uid;
    expect(qemuUid).not.toBe(0);
    const dir = statSync(join(root, "run", "family.dbus"));
    expect({ uid: dir.uid, gid: dir.gid, mode: dir.mode & 0o777 }).toEqual({ uid: 0, gid: qemuUid, mode: 0o710 });
    // Another network's QEMU runs as another such uid: even holding the directory open, it cannot connect.
    const dirFd = openSync(join(root, "run", "family.dbus"), "r");
    const other = spawnSync("setpriv", [`--reuid=${qemuUid + 1}`, `--regid=${qemuUid + 1}`, "--clear-groups", ...listNames("unix:path=/proc/self/fd/3/bus")], {
      stdio: ["ignore", "pipe", "pipe", dirFd],
      encoding: "utf8",
    });
    closeSync(dirFd);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/Permission denied/);
  }, 120_000);

  it("a QEMU its guest took over can neither put another bus where the viewer connects nor own another name there", async () => {
    const status = (await stack.api.list()).find((vm) => vm.network === "family")!;
    const qemuUid = statSync(`/proc/${status.pid}`).uid;
    const asQemu = (command: string[]) => {
      const dirFd = openSync(join(root, "run", "family.dbus"), "r");
      try {
        return spawnSync("setpriv", [`--reuid=${qemuUid}`, `--regid=${qemuUid}`, "--clear-groups", ...command], { stdio: ["ignore", "pipe", "pipe", dirFd], encoding: "utf8" });
      } finally {
        closeSync(dirFd);
      }
    };
    // QEMU's own uid, holding the directory as QEMU does: it may connect, not replace the socket or add a link.
    expect(asQemu(listNames("unix:path=/proc/self/fd/3/bus")).stdout).toContain("'org.qemu'");
    for (const attack of [["ln", "-sf", stack.bus.address.slice("unix:path=".length), "/proc/self/fd/3/bus"], ["rm", "-f", "/proc/self/fd/3/bus"], ["touch", "/proc/self/fd/3/bus2"]]) {
      const result = asQemu(attack);
      expect(result.status, attack.join(" ")).not.toBe(0);
      expect(result.stderr).toMatch(/Permission denied/);
    }
    expect(statSync(status.displaySocket).isSocket()).toBe(true);
    const takeName = asQemu(["gdbus", "call", "-a", "unix:path=/proc/self/fd/3/bus", "-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus", "-m", "org.freedesktop.DBus.RequestName", "org.clan.Desktop.VMs1", "0"]);
    expect(takeName.status).not.toBe(0);
    expect(takeName.stderr).toMatch(/AccessDenied|not allowed to own/);
  }, 60_000);

  it("keeps the bus across a clan-vmd restart and stops it with the VM", async () => {
    const before = (await stack.api.list()).find((vm) => vm.network === "family")!;
    const record = JSON.parse(await readFile(join(root, "run", "family", "vm.json"), "utf8")) as { displayBusPid: number };
    expect(isAlive(record.displayBusPid)).toBe(true);
    await stack.vmd.stop();
    await stack.startVmd();
    await waitUntil(async () => ((await stack.api.list()).find((vm) => vm.network === "family")?.state === "running" ? true : undefined), "the VM re-adopted");
    const adopted = (await stack.api.list()).find((vm) => vm.network === "family")!;
    expect({ pid: adopted.pid, display: adopted.display, socket: adopted.displaySocket }).toEqual({ pid: before.pid, display: "dbus", socket: before.displaySocket });
    expect((await busNames(`unix:path=${adopted.displaySocket}`)).stdout).toContain("'org.qemu'");

    await stack.api.stop("family");
    await waitUntil(() => (!isAlive(record.displayBusPid) ? true : undefined), "the display bus to end with the VM", 10_000);
    expect(existsSync(join(root, "run", "family.dbus"))).toBe(false);
  }, 120_000);

  it("refuses a vm.json that names a bus of its own, and starts nothing", async () => {
    const generation = await makeGeneration(join(root, "gen", "club"), { generation: "club-1", vm: { display: "dbus", stateDiskMiB: 0 } });
    const vmJson = join(generation, "vm.json");
    const spec = JSON.parse(await readFile(vmJson, "utf8")) as Record<string, unknown>;
    await writeFile(vmJson, JSON.stringify({ ...spec, displayAddress: `unix:path=${stack.bus.address.slice("unix:path=".length)}` }));
    await expect(stack.api.start("club", generation)).rejects.toThrow(/vm\.json: field \(top level\)|displayAddress/);
    expect((await stack.api.list()).find((vm) => vm.network === "club")?.state ?? "stopped").toBe("stopped");
    expect(existsSync(join(root, "run", "club.dbus"))).toBe(false);
  });

  it("ends the display bus of a VM that died while clan-vmd was down", async () => {
    const generation = await makeGeneration(join(root, "gen", "garden"), { generation: "garden-1", vm: { display: "dbus", stateDiskMiB: 0 } });
    const status = await stack.api.start("garden", generation);
    const record = JSON.parse(await readFile(join(root, "run", "garden", "vm.json"), "utf8")) as { displayBusPid: number };
    await stack.vmd.stop();
    process.kill(status.pid, "SIGKILL");
    await waitUntil(() => (!isAlive(status.pid) ? true : undefined), "QEMU to die", 10_000);
    await stack.startVmd();
    await waitUntil(() => (!isAlive(record.displayBusPid) ? true : undefined), "the orphaned display bus to end", 10_000);
    expect(existsSync(join(root, "run", "garden.dbus"))).toBe(false);
  }, 120_000);
});
