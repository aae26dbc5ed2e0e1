import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { skipReason, stopProcess } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { installedVersion, versionSkipReason } from "../helpers/versions.js";
import { nodeGtkSkipReason, runViewer, startDisplayVm, windowSize, type DisplayVm } from "./display-vm.js";

// clan-viewer on the shared-memory path against the real QEMU 10 of the Debian 13 lane: QEMU reads the viewer's
// listener's Interfaces property, hands it the framebuffer's memory file (ScanoutMap) and then only names damage
// (UpdateMap). The viewer's counters must show frames drawn with no byte of framebuffer inside a message, and the
// pixels in its window must be the guest's screen as QEMU itself dumps it. QEMU 7.2 (the host lane) has only the
// copy path, which clan-viewer.e2e.test.ts tests.

const QEMU = "qemu-system-x86_64";
const SHARED_MAP_SINCE: [number, number, number] = [9, 2, 0];
const skip = versionSkipReason(QEMU, installedVersion(QEMU), SHARED_MAP_SINCE) || skipReason("dbus-daemon", "Xvfb", "import", "convert", "compare", "xwininfo") || nodeGtkSkipReason;
const OUTPUT = join(REPO, ".cache", "test-output", "viewer");
const COLOUR = "#3366cc";
/** VGA's light grey in which SeaBIOS writes. */
const GUEST_TEXT = "#a8a8a8";
const BORDER = 4;
/** The label strip's height above the picture. */
const STRIP = 24;

interface Counters {
  scanouts: number;
  updates: number;
  scanoutMaps: number;
  updateMaps: number;
  bytes: number;
  shown: number;
}

describe.skipIf(skip !== "")(`clan-viewer draws a QEMU 10 VM's display from shared memory${skip}`, () => {
  const display = `:${300 + (process.pid % 400)}`;
  const qmpSocket = `/tmp/clan-viewer-shared-${process.pid}.qmp`;
  let vm: DisplayVm;
  let viewer: ResultPromise;
  let viewerLog: () => string;
  const qemuLog = () => vm.qemuLog();

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    vm = await startDisplayVm({ display, qemuBinary: QEMU, extraQemuArgs: ["-qmp", `unix:${qmpSocket},server=on,wait=off`], busTimeoutMs: 30_000 });
    ({ process: viewer, log: viewerLog } = runViewer(vm, { colour: COLOUR, stats: true }));
  }, 90_000);

  afterAll(async () => {
    if (viewer) await stopProcess(viewer);
    await vm?.stop();
  });

  it("shows the guest's screen from QEMU's memory file with no framebuffer byte inside a message", async () => {
    const shot = join(OUTPUT, "shared-path-qemu-10.png");
    // The pixels are the guest's: QEMU's own dump of its screen must match what the viewer drew. The viewer opens at
    // the guest's size, so it draws them unscaled. The firmware writes for a while: each round compares a screenshot
    // with a dump taken after it, until the viewer has caught up with the guest's last message ("No bootable device.").
    let last: Comparison | undefined;
    let counters: Counters | undefined;
    let viewerWindow = { width: 0, height: 0 };
    try {
      await waitUntil(async () => {
        if (viewer.exitCode !== null) throw new Error(`clan-viewer exited: ${viewerLog()}`);
        counters = lastStats(viewerLog());
        viewerWindow = await windowSize(display);
        if (viewerWindow.width === 0) return undefined;
        last = await compareWithGuest(display, qmpSocket, shot, viewerWindow);
        return counters !== undefined && counters.updateMaps > 0 && matches(last) ? true : undefined;
      }, "the guest's screen in the viewer", 90_000);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; last comparison ${JSON.stringify(last)}, counters ${JSON.stringify(counters)}:\n${viewerLog()}\n${qemuLog()}`);
    }
    const comparison = last!;
    // Enough text that a missing or wrong picture would differ in far more pixels than the bound below.
    expect(comparison.guestTextPixels).toBeGreaterThan(comparison.boxPixels * 0.05);
    expect(comparison.scale).toBeGreaterThan(0.97);
    expect(comparison.scale).toBeLessThan(1.03);
    expect(Math.abs(comparison.heightScale - comparison.scale)).toBeLessThan(0.05);
    // Scaling blurs the glyphs' edges, a few pixels of them.
    expect(comparison.differing / comparison.boxPixels, JSON.stringify(comparison)).toBeLessThan(0.01);

    // Every frame came through the mapping: QEMU never fell back to copying.
    expect(counters!.scanoutMaps, viewerLog()).toBeGreaterThanOrEqual(1);
    expect(counters!.updateMaps).toBeGreaterThan(0);
    expect(counters!.shown).toBeGreaterThan(0);
    expect({ scanouts: counters!.scanouts, updates: counters!.updates, bytes: counters!.bytes }).toEqual({ scanouts: 0, updates: 0, bytes: 0 });
    expect(viewerLog()).not.toContain("refused");

    // The frame is the viewer's: borders in the network's colour, none of the guest's text on them.
    const left = { x: 0, y: 40, width: BORDER, height: viewerWindow.height - 80 };
    const bottom = { x: 0, y: viewerWindow.height - BORDER, width: viewerWindow.width, height: BORDER };
    expect(await countPixels(shot, left, COLOUR)).toBe(left.width * left.height);
    expect(await countPixels(shot, bottom, COLOUR)).toBe(bottom.width * bottom.height);
    for (const region of [left, bottom]) expect(await countPixels(shot, region, GUEST_TEXT, 8)).toBe(0);
  }, 150_000);
});

interface Comparison {
  /** The viewer's text box's width over the guest's (1 when unscaled), and the same for heights. */
  scale: number;
  heightScale: number;
  boxPixels: number;
  guestTextPixels: number;
  /** Pixels of the guest's text box that differ from the viewer's, scaled back to the guest's size. */
  differing: number;
}

function matches(comparison: Comparison | undefined): boolean {
  if (comparison === undefined) return false;
  const { scale, heightScale, boxPixels, guestTextPixels, differing } = comparison;
  return guestTextPixels > boxPixels * 0.05 && scale > 0.97 && scale < 1.03 && Math.abs(heightScale - scale) < 0.05 && differing / boxPixels < 0.01;
}

/** A screenshot of the viewer and then QEMU's dump of the guest's screen, their text compared; undefined while either has none. */
async function compareWithGuest(display: string, qmpSocket: string, shot: string, viewerWindow: { width: number; height: number }): Promise<Comparison | undefined> {
  await x11Screenshot(display, shot);
  const dump = join(OUTPUT, "shared-path-qemu-10-screendump.ppm");
  await qmp(qmpSocket, { execute: "screendump", arguments: { filename: dump } });
  const viewerCrop = join(OUTPUT, "shared-path-qemu-10-inner.png");
  // The picture's area: inside the border, below the label strip.
  const inner = { x: BORDER, y: STRIP, width: viewerWindow.width - 2 * BORDER, height: viewerWindow.height - STRIP - BORDER };
  await execa("convert", [shot, "-crop", `${inner.width}x${inner.height}+${inner.x}+${inner.y}`, "+repage", viewerCrop]);
  const guestBox = await textBox(dump);
  const viewerBox = await textBox(viewerCrop);
  if (guestBox === undefined || viewerBox === undefined) return undefined;
  const guestText = join(OUTPUT, "shared-path-qemu-10-guest-text.png");
  const viewerText = join(OUTPUT, "shared-path-qemu-10-viewer-text.png");
  await execa("convert", [dump, "-crop", geometry(guestBox), "+repage", guestText]);
  await execa("convert", [viewerCrop, "-crop", geometry(viewerBox), "+repage", "-resize", `${guestBox.width}x${guestBox.height}!`, viewerText]);
  return {
    scale: viewerBox.width / guestBox.width,
    heightScale: viewerBox.height / guestBox.height,
    boxPixels: guestBox.width * guestBox.height,
    guestTextPixels: await countPixels(guestText, { x: 0, y: 0, width: guestBox.width, height: guestBox.height }, GUEST_TEXT, 8),
    differing: await differentPixels(guestText, viewerText),
  };
}

function lastStats(log: string): Counters | undefined {
  const line = log.split("\n").filter((entry) => entry.includes("stats ")).pop();
  return line === undefined ? undefined : (JSON.parse(line.slice(line.indexOf("{"))) as Counters);
}

interface Box {
  width: number;
  height: number;
  x: number;
  y: number;
}

/** The bounding box of what is not black in an image; undefined when there is (next to) nothing. */
async function textBox(file: string): Promise<Box | undefined> {
  const { stdout } = await execa("convert", [file, "-fuzz", "20%", "-format", "%@", "info:"]);
  const match = /^(\d+)x(\d+)\+(\d+)\+(\d+)$/.exec(stdout.trim());
  if (!match) throw new Error(`no bounding box in ${file}: ${stdout}`);
  const [width, height, x, y] = match.slice(1).map(Number) as [number, number, number, number];
  return width < 16 || height < 16 ? undefined : { width, height, x, y };
}

function geometry(box: Box): string {
  return `${box.width}x${box.height}+${box.x}+${box.y}`;
}

async function differentPixels(a: string, b: string): Promise<number> {
  // compare exits 1 when the images differ at all; the count is on stderr.
  const result = await execa("compare", ["-metric", "AE", "-fuzz", "35%", a, b, "null:"], { reject: false });
  const count = Number.parseFloat(result.stderr.trim());
  if (!Number.isFinite(count)) throw new Error(`compare: ${result.stderr}`);
  return count;
}

/** One QMP command on QEMU's monitor socket; resolves when QEMU answers it. */
async function qmp(socket: string, command: object): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const connection = createConnection(socket);
    let buffered = "";
    let sent = 0;
    connection.on("error", reject);
    connection.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffered.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        buffered = buffered.slice(newline + 1);
        if (message.error) {
          connection.destroy();
          reject(new Error(`QMP: ${message.error.desc}`));
        } else if (message.QMP !== undefined) {
          connection.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
        } else if (message.return !== undefined && sent === 0) {
          sent = 1;
          connection.write(`${JSON.stringify(command)}\n`);
        } else if (message.return !== undefined) {
          connection.end();
          resolve();
        }
      }
    });
  });
}
