import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { startDaemon, type DaemonProcess } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";
import { makeGeneration } from "../helpers/test-guest.js";

// A generation's virtiofs shares: clan-vmd starts QEMU 7.2's virtiofsd for each and the guest mounts them by tag.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", VIRTIOFSD];

describe.skipIf(!needs.every(hasBinary))(`virtiofs shares ${skipReason(...needs)}`, () => {
  let bus: SessionBus;
  let root: string;
  let vmd: DaemonProcess;
  let client: MessageBus;
  let api: VmdClient;

  beforeAll(async () => {
    bus = await startSessionBus();
    root = await mkdtemp(join(tmpdir(), "clan-virtiofs-"));
    await mkdir(join(root, "docs"));
    await mkdir(join(root, "photos"));
    await writeFile(join(root, "docs", "from-host.txt"), "hello from the host\n");
    await writeFile(join(root, "photos", "cat.txt"), "a cat\n");
    vmd = startDaemon("clan-vmd", ["--runtime-dir", join(root, "run"), "--state-dir", join(root, "state"), "--accel", "tcg", "--powerdown-timeout", "1"], {
      DBUS_SESSION_BUS_ADDRESS: bus.address,
    });
    await vmd.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
    client = sessionBus({ busAddress: bus.address });
    api = await VmdClient.connect(client);
  });

  afterAll(async () => {
    await api?.stopAll().catch(() => undefined);
    client?.disconnect();
    await vmd?.stop();
    await bus?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const guest = async (script: string) => api.guestExec("shares", ["/bin/sh", "-c", script], 30);

  it("the guest mounts a writable and a read-only share by tag; writes reach the host only through the first", async () => {
    const generation = await makeGeneration(join(root, "generation"), {
      generation: "shares-1",
      vm: {
        stateDiskMiB: 0,
        shares: [
          { tag: "docs", source: join(root, "docs") },
          { tag: "photos", source: join(root, "photos"), readOnly: true },
        ],
      },
    });
    const grants = [
      { path: join(root, "docs"), readWrite: true },
      { path: join(root, "photos"), readWrite: false },
    ];
    expect((await api.start("shares", generation, { shareGrants: grants })).state).toBe("running");
    const mounted = await guest("mkdir -p /mnt/docs /mnt/photos && mount -t virtiofs docs /mnt/docs && mount -t virtiofs photos /mnt/photos && cat /mnt/docs/from-host.txt /mnt/photos/cat.txt");
    expect(mounted).toMatchObject({ exitCode: 0, stdout: "hello from the host\na cat\n" });
    expect((await guest("echo from the guest > /mnt/docs/from-guest.txt")).exitCode).toBe(0);
    expect(await readFile(join(root, "docs", "from-guest.txt"), "utf8")).toBe("from the guest\n");
    const refused = await guest("echo nope > /mnt/photos/nope.txt");
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/Read-only file system/);
  });

  it("stopping the VM also ends its virtiofsd processes", async () => {
    await api.stop("shares");
    const { execa } = await import("execa");
    const { stdout } = await execa("pgrep", ["-f", `virtiofsd --socket-path=${join(root, "run")}`], { reject: false });
    expect(stdout.trim()).toBe("");
  });
});
