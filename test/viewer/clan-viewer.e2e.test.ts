import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { skipReason, stopProcess } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { contextSwitches } from "../helpers/wake-ups.js";
import { nodeGtkSkipReason, runViewer, startDisplayVm, windowSize, type DisplayVm } from "./display-vm.js";

// clan-viewer on the copy path against the real QEMU 7.2: a bare PC whose firmware writes its boot messages on the
// VGA screen, QEMU's D-Bus display on a private bus, the viewer under Xvfb. The screenshot (kept under
// test-output/viewer/) must show the guest's text inside the network's coloured frame and label, and none of the
// guest's pixels on the frame.

const QEMU = "qemu-system-x86_64";
const skip = skipReason(QEMU, "dbus-daemon", "Xvfb", "import", "convert", "xwininfo") || nodeGtkSkipReason;
const OUTPUT = join(REPO, "test-output", "viewer");
const COLOUR = "#3366cc";
/** VGA's light grey (palette 7, 0x2a on a 6-bit DAC) in which SeaBIOS writes. */
const GUEST_TEXT = "#a8a8a8";
const BORDER = 4;
/**
 * An idle viewer's wake-ups over IDLE_MS: GTK and GDBus settle within a few, where the old 200 ms tick alone made
 * 15 over 3 s (and a frame-clock tick callback about 180).
 */
const IDLE_MS = 3000;
const IDLE_TOLERANCE = 6;

describe.skipIf(skip !== "")(`clan-viewer shows a QEMU 7.2 VM's display in its frame${skip}`, () => {
  const display = `:${200 + (process.pid % 500)}`;
  let vm: DisplayVm;
  let viewer: ResultPromise;
  let viewerLog: () => string;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    vm = await startDisplayVm({ display });
    ({ process: viewer, log: viewerLog } = runViewer(vm, { colour: COLOUR, stats: true }));
  }, 60_000);

  afterAll(async () => {
    if (viewer) await stopProcess(viewer);
    await vm?.stop();
  });

  it("shows the guest's screen 1:1, its text inside the network's colour and label, the guest's pixels never on the frame", async () => {
    const shot = join(OUTPUT, "copy-path-qemu-7.2.png");
    let viewerWindow = { width: 0, height: 0 };
    // Until the firmware's last message ("No bootable device.") has arrived as an Update and been drawn.
    await waitUntil(async () => {
      if (viewer.exitCode !== null) throw new Error(`clan-viewer exited: ${viewerLog()}`);
      viewerWindow = await windowSize(display);
      await x11Screenshot(display, shot);
      const text = await countPixels(shot, { x: BORDER, y: 24, width: viewerWindow.width - 2 * BORDER, height: viewerWindow.height - 24 - BORDER }, GUEST_TEXT, 8);
      return text > 2000 ? text : undefined;
    }, `the guest's text in the viewer:\n${viewerLog()}`, 60_000);
    // Xvfb's GL is llvmpipe: the viewer chose cairo itself.
    expect(viewerLog()).toMatch(/renderer: cairo, since GL is software only \(.*swrast_dri\.so\)/);

    // The frame: left and right borders, the bottom border and the label strip, in the network's colour.
    const left = { x: 0, y: 40, width: BORDER, height: viewerWindow.height - 80 };
    expect(await countPixels(shot, left, COLOUR)).toBe(left.width * left.height);
    const right = { x: viewerWindow.width - BORDER, y: 40, width: BORDER, height: viewerWindow.height - 80 };
    expect(await countPixels(shot, right, COLOUR)).toBe(right.width * right.height);
    const bottom = { x: 0, y: viewerWindow.height - BORDER, width: viewerWindow.width, height: BORDER };
    expect(await countPixels(shot, bottom, COLOUR)).toBe(bottom.width * bottom.height);
    // The label strip is the colour with the label's white text on it.
    const strip = { x: 0, y: 0, width: viewerWindow.width, height: 20 };
    const stripColour = await countPixels(shot, strip, COLOUR);
    expect(stripColour).toBeGreaterThan(strip.width * strip.height * 0.8);
    expect(await countPixels(shot, strip, "#ffffff", 16)).toBeGreaterThan(20);
    // No grey guest text on the frame.
    for (const region of [left, right, bottom, strip]) expect(await countPixels(shot, region, GUEST_TEXT, 8)).toBe(0);

    const stats = viewerLog().split("\n").filter((line) => line.includes("stats ")).pop();
    expect(stats, viewerLog()).toBeDefined();
    const counters = JSON.parse(stats!.slice(stats!.indexOf("{"))) as { scanouts: number; updates: number; scanoutMaps: number; bytes: number; shown: number; filtered: number };
    expect(counters.scanouts).toBeGreaterThanOrEqual(1);
    expect(counters.updates).toBeGreaterThan(0);
    // QEMU 7.2 has no shared-memory path: every frame came by copy, its pixels counted.
    expect(counters.scanoutMaps).toBe(0);
    expect(counters.bytes).toBeGreaterThan(0);
    // QEMU 7.2's messages are the copy-path filter's to write (they want no reply): all but those of a size change.
    expect(counters.filtered).toBeGreaterThan(0);
    expect(counters.filtered).toBeGreaterThanOrEqual((counters.scanouts + counters.updates) / 2);
    // The window grew to the guest's mode (SeaBIOS's 720x400 text screen) plus the frame: at that width the picture
    // draws the guest's pixels unscaled. (It does not shrink back in height from the first, 640x480 mode.)
    const screen = JSON.parse(stats!.slice(stats!.indexOf("{"))) as { width: number; height: number };
    expect(screen).toMatchObject({ width: 720, height: 400 });
    expect(viewerWindow.width).toBe(screen.width + 2 * BORDER);
    expect(viewerWindow.height - screen.height - 2 * BORDER).toBeGreaterThan(10);
  }, 90_000);

  it("draws without the stats timer while GTK has a session bus, and ends cleanly (exit 0) on SIGTERM", async () => {
    // As clan-sessiond runs it: no CLAN_VIEWER_STATS (whose timer once hid a stalled loop), a session bus present.
    await stopProcess(viewer);
    const { process: plain, log: plainLog } = runViewer(vm, { colour: COLOUR, stats: false, sessionBus: true });
    const shot = join(OUTPUT, "copy-path-no-stats.png");
    try {
      await waitUntil(async () => {
        if (plain.exitCode !== null) throw new Error(`clan-viewer exited: ${plainLog()}`);
        const viewerWindow = await windowSize(display);
        await x11Screenshot(display, shot);
        const text = await countPixels(shot, { x: BORDER, y: 24, width: viewerWindow.width - 2 * BORDER, height: viewerWindow.height - 24 - BORDER }, GUEST_TEXT, 8);
        return text > 2000 ? text : undefined;
      }, `the guest's text in the viewer:\n${plainLog()}`, 60_000);
      plain.kill("SIGTERM");
      const result = await Promise.race([plain, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
      expect(result, `clan-viewer still runs 10 s after SIGTERM:\n${plainLog()}`).toBeDefined();
      expect({ exitCode: result!.exitCode, signal: result!.signal ?? null }).toEqual({ exitCode: 0, signal: null });
    } finally {
      await stopProcess(plain);
    }
  }, 90_000);
  it("makes no wake-ups of its own while QEMU sends nothing, and draws and ends cleanly after that sleep", async () => {
    const { process: idle, log: idleLog } = runViewer(vm, { colour: COLOUR, stats: false, sessionBus: true });
    const shot = join(OUTPUT, "idle.png");
    const guestText = async () => {
      if (idle.exitCode !== null) throw new Error(`clan-viewer exited: ${idleLog()}`);
      const viewerWindow = await windowSize(display);
      await x11Screenshot(display, shot);
      return countPixels(shot, { x: BORDER, y: 24, width: viewerWindow.width - 2 * BORDER, height: viewerWindow.height - 24 - BORDER }, GUEST_TEXT, 8);
    };
    try {
      await waitUntil(async () => ((await guestText()) > 2000 ? true : undefined), `the guest's text in the viewer:\n${idleLog()}`, 60_000);
      // QEMU redraws the blinking text cursor even in a paused VM; a stopped QEMU sends nothing, so whatever wakes
      // the viewer now is its own doing. The first quiet stretch passes: GTK and GDBus may take a moment to settle.
      vm.qemu.kill("SIGSTOP");
      const samples: number[] = [];
      const deadline = Date.now() + 30_000;
      let before = await contextSwitches(idle.pid!);
      for (;;) {
        await sleep(IDLE_MS);
        const now = await contextSwitches(idle.pid!);
        samples.push(now - before);
        before = now;
        if (samples.at(-1)! <= IDLE_TOLERANCE) break;
        if (Date.now() > deadline) throw new Error(`clan-viewer was never idle for ${IDLE_MS} ms; context switches per stretch: ${samples.join(" ")}`);
      }
      const stillText = await guestText();
      // After the sleep, QEMU's cursor blinks again: the viewer must wake for its updates and draw them.
      vm.qemu.kill("SIGCONT");
      await waitUntil(async () => ((await guestText()) !== stillText ? true : undefined), `the blinking cursor redrawn after the viewer slept:\n${idleLog()}`, 30_000);
      idle.kill("SIGTERM");
      const result = await Promise.race([idle, sleep(10_000).then(() => undefined)]);
      expect(result, `clan-viewer still runs 10 s after SIGTERM:\n${idleLog()}`).toBeDefined();
      expect({ exitCode: result!.exitCode, signal: result!.signal ?? null }).toEqual({ exitCode: 0, signal: null });
    } finally {
      vm.qemu.kill("SIGCONT");
      await stopProcess(idle);
    }
  }, 120_000);
});
