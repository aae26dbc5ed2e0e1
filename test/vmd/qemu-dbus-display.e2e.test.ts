import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { collectOutput, skipReason, stopProcess } from "../helpers/processes.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";
import { installedVersion, versionSkipReason } from "../helpers/versions.js";

// QEMU's D-Bus display with the shared-memory listener path (org.qemu.Display1.Listener.Unix.Map, QEMU 9.2+), the
// path the VM viewer is to use: instead of copying every frame through D-Bus messages, QEMU hands the listener the
// framebuffer's memory file once (ScanoutMap) and then only says what changed (UpdateMap). QEMU 7.2 (Debian 12) has
// only the copying path; QEMU 10 (the Debian 13 lane) has both. The VM is a bare PC whose firmware draws on its
// VGA screen; the listener is test/vmd/fixtures/qemu-display-listener.js under GJS.

const QEMU = "qemu-system-x86_64";
const SHARED_MAP_SINCE: [number, number, number] = [9, 2, 0];
const skip = versionSkipReason(QEMU, installedVersion(QEMU), SHARED_MAP_SINCE) || skipReason("gjs", "dbus-daemon");

interface FrameEvent {
  event: string;
  width?: number;
  height?: number;
  stride?: number;
  read?: number;
  nonZero?: number;
  message?: string;
}

describe.skipIf(skip !== "")(`QEMU's D-Bus display, shared memory${skip}`, () => {
  let bus: SessionBus;
  let qemu: ResultPromise;
  let qemuLog: () => string;

  beforeAll(async () => {
    bus = await startSessionBus();
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address };
    qemu = execa(QEMU, ["-machine", "pc", "-accel", "tcg", "-m", "64", "-display", "dbus", "-vga", "std", "-nic", "none", "-serial", "none", "-monitor", "none"], { env, reject: false });
    qemuLog = collectOutput(qemu);
    await waitUntil(async () => {
      const names = await execa("busctl", ["--address", bus.address, "list", "--no-legend"], { reject: false });
      return names.stdout.includes("org.qemu") ? true : undefined;
    }, `QEMU to own org.qemu on the bus:\n${qemuLog()}`, 20_000);
  });

  afterAll(async () => {
    if (qemu) await stopProcess(qemu);
    await bus?.stop();
  });

  it("exports its console on the session bus", async () => {
    const introspection = await execa("busctl", ["--address", bus.address, "introspect", "org.qemu", "/org/qemu/Display1/Console_0", "org.qemu.Display1.Console"]);
    expect(introspection.stdout).toContain(".RegisterListener");
  });

  it("hands a listener that offers Listener.Unix.Map the framebuffer as shared memory, not as copies", async () => {
    const listener = execa("gjs", ["-m", join(REPO, "test/vmd/fixtures/qemu-display-listener.js")], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address }, reject: false });
    const events: FrameEvent[] = [];
    listener.stdout?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) events.push(JSON.parse(line) as FrameEvent);
    });
    const stderr = collectOutput(listener);
    try {
      // Until QEMU has sent a frame and an update of it, or the listener has failed or ended.
      await waitUntil(
        () => (events.some((e) => e.event === "ScanoutMap") && events.some((e) => e.event === "UpdateMap")) || events.some((e) => e.event === "error") || listener.exitCode !== null ? true : undefined,
        "a ScanoutMap and an UpdateMap from QEMU",
        60_000,
      );
    } finally {
      await stopProcess(listener);
    }
    expect(events.filter((e) => e.event === "error"), `${stderr()}\n${qemuLog()}`).toEqual([]);
    expect(events.map((e) => e.event), stderr()).toEqual(expect.arrayContaining(["registered", "ScanoutMap", "UpdateMap"]));
    expect(events.map((e) => e.event)).not.toContain("Scanout");
    const scanout = events.find((e) => e.event === "ScanoutMap")!;
    expect(scanout.width).toBeGreaterThan(0);
    expect(scanout.height).toBeGreaterThan(0);
    expect(scanout.stride).toBeGreaterThanOrEqual(scanout.width! * 4);
    // The whole framebuffer is readable from the memory file QEMU passed.
    expect(scanout.read).toBe(scanout.stride! * scanout.height!);
  });
});
