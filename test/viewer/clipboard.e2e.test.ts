import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { collectOutput, skipReason, stopProcess } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { VncClipboardPeer } from "../helpers/vnc-clipboard-peer.js";
import { nodeGtkSkipReason, runViewer, startDisplayVm, type DisplayVm } from "./display-vm.js";

// The clipboard crosses between host and guest only on Ctrl+Shift+C / Ctrl+Shift+V, against the real QEMU 7.2
// (org.qemu.Display1.Clipboard) and a real X clipboard (Xvfb, xsel). The tiny guest has no clipboard agent, so the
// guest's side is played by a peer of QEMU's own clipboard core: a client of QEMU's VNC server speaking the
// extended clipboard, as a guest's vdagent would be. It plays the attacker: its clipboard holds escape sequences and
// a carriage return meant for a host terminal, then more text than the viewer takes. The keys the viewer sends the
// guest are read from the VM's bus with dbus-monitor.

const QEMU = "qemu-system-x86_64";
const skip = skipReason(QEMU, "dbus-daemon", "dbus-monitor", "Xvfb", "xdotool", "xsel", "xmessage", "import", "convert") || nodeGtkSkipReason;
const OUTPUT = join(REPO, "test-output", "viewer");
const GUEST_TEXT = "#a8a8a8";
/** QEMU's qnum for the C and V keys, and for left Ctrl. */
const QNUM_C = 0x2e;
const QNUM_V = 0x2f;
const QNUM_CTRL = 0x1d;
const HOSTILE = Buffer.from("guest secret\x1b[201~rm -rf ~\r\x07\n ok");

describe.skipIf(skip !== "")(`clan-viewer's clipboard crosses only on Ctrl+Shift+C/V${skip}`, () => {
  const display = `:${200 + ((process.pid + 250) % 500)}`;
  const x = { ...process.env, DISPLAY: display };
  let dir: string;
  let vm: DisplayVm;
  let monitor: ResultPromise;
  let monitorLog: () => string;
  let viewer: ResultPromise;
  let viewerLog: () => string;
  let hostClipboard: ResultPromise | undefined;
  let other: ResultPromise;
  let guest: VncClipboardPeer;
  /** Key combinations typed with Ctrl held: each ends with Ctrl's release, which the viewer always forwards. */
  let ctrlCombos = 0;

  const xdo = (...args: string[]) => execa("xdotool", args, { env: x });
  const windowOf = async (...search: string[]) => waitUntil(async () => (await execa("xdotool", ["search", ...search], { env: x, reject: false })).stdout.split("\n").filter(Boolean).pop(), `a window (${search.join(" ")})`, 20_000);
  const type = async (keys: string) => {
    if (keys.startsWith("ctrl+")) ctrlCombos++;
    await xdo("key", keys);
  };
  const readHostClipboard = async () => (await execa("xsel", ["--clipboard", "--output"], { env: x, reject: false, stripFinalNewline: false })).stdout;
  const setHostClipboard = async (text: string) => {
    if (hostClipboard) await stopProcess(hostClipboard);
    hostClipboard = execa("xsel", ["--clipboard", "--input", "--nodetach"], { env: x, input: text, reject: false });
    await waitUntil(async () => ((await readHostClipboard()) === text ? true : undefined), "xsel to own the host's clipboard", 10_000);
  };
  const keysSent = (member: "Press" | "Release", qnum: number) => [...monitorLog().matchAll(/member=(Press|Release)\n\s+uint32 (\d+)/g)].filter((m) => m[1] === member && Number(m[2]) === qnum).length;
  /** Waits until every key typed so far has reached the guest or been kept back: the last Ctrl release has gone out. */
  const keysSettled = () => waitUntil(() => (keysSent("Release", QNUM_CTRL) >= ctrlCombos ? true : undefined), `${ctrlCombos} Ctrl releases on the bus:\n${monitorLog()}`, 20_000);
  const notices = () => viewerLog().split("\n").filter((line) => /clan-viewer: (copied|did not copy)/.test(line));
  /** Presses Ctrl+Shift+C until the viewer reports an outcome that `wanted` accepts (QEMU takes the guest's copy in its own time). */
  const copyFromGuest = async (wanted: RegExp) =>
    waitUntil(async () => {
      const before = notices().length;
      await type("ctrl+shift+c");
      const line = await waitUntil(() => notices()[before], `the viewer's clipboard notice:\n${viewerLog()}`, 15_000);
      return wanted.test(line) ? line : undefined;
    }, `a notice matching ${wanted}:\n${viewerLog()}`, 60_000);

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), "clan-viewer-clipboard-"));
    const vncSocket = join(dir, "vnc");
    vm = await startDisplayVm({ display, extraQemuArgs: ["-vnc", `unix:${vncSocket}`] });
    guest = await VncClipboardPeer.connect(vncSocket);
    monitor = execa("dbus-monitor", ["--address", vm.bus.address, "interface='org.qemu.Display1.Keyboard'"], { reject: false });
    monitorLog = collectOutput(monitor, 4 * 1024 * 1024);
    await waitUntil(() => (monitorLog().includes("NameLost") || monitorLog().includes("NameAcquired") ? true : undefined), `dbus-monitor to start:\n${monitorLog()}`, 10_000);
    other = execa("xmessage", ["-geometry", "+850+10", "another window"], { env: x, reject: false });
    ({ process: viewer, log: viewerLog } = runViewer(vm, { colour: "#3366cc", stats: false }));
    const shot = join(OUTPUT, "clipboard.png");
    await waitUntil(async () => {
      if (viewer.exitCode !== null) throw new Error(`clan-viewer exited: ${viewerLog()}`);
      await x11Screenshot(display, shot);
      return (await countPixels(shot, { x: 4, y: 24, width: 792, height: 572 }, GUEST_TEXT, 8)) > 2000 ? true : undefined;
    }, `the guest's text in the viewer:\n${viewerLog()}`, 60_000);
    await xdo("windowfocus", "--sync", await windowOf("--pid", String(viewer.pid)));
  }, 120_000);

  afterAll(async () => {
    guest?.close();
    for (const child of [viewer, other, hostClipboard, monitor]) if (child) await stopProcess(child);
    await vm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("offers the host's clipboard to the guest on Ctrl+Shift+V only: not on Ctrl+V, Ctrl+C or a change of focus", async () => {
    guest.copy(Buffer.from("guest secret"));
    await setHostClipboard("host secret");
    await type("ctrl+c");
    await type("ctrl+v");
    await xdo("windowfocus", "--sync", await windowOf("--class", "Xmessage"));
    await xdo("windowfocus", "--sync", await windowOf("--pid", String(viewer.pid)));
    const from = guest.events.length;
    await type("ctrl+shift+v");
    await guest.next((event) => event.kind === "notify", "announcement of the host's text", from);
    guest.requestText();
    const provided = await guest.next((event) => event.kind === "provide", "the host's text", from);
    expect(provided.text).toBe("host secret");
    // The one announcement is Ctrl+Shift+V's: nothing was offered before it.
    expect(guest.events.filter((event) => event.kind === "notify" || event.kind === "provide" || event.kind === "plain")).toEqual([{ kind: "notify" }, provided]);
    // Ctrl+C did not bring the guest's text over either.
    expect(await readHostClipboard()).toBe("host secret");
    expect(viewerLog()).toMatch(/offered 11 characters to the guest/);
    await keysSettled();
    // Ctrl+C and Ctrl+V went to the guest as keys; Ctrl+Shift+V's V did not.
    expect({ c: keysSent("Press", QNUM_C), v: keysSent("Press", QNUM_V) }).toEqual({ c: 1, v: 1 });
  }, 90_000);

  it("copies the guest's clipboard on Ctrl+Shift+C without its control characters, and shows an escaped preview", async () => {
    guest.copy(HOSTILE);
    const notice = await copyFromGuest(/copied/);
    expect(await readHostClipboard()).toBe("guest secret[201~rm -rf ~\n ok");
    expect(notice).toContain("copied 29 characters from the guest (3 control characters left out): “guest secret[201~rm -rf ~\\u{000A} ok”");
    expect(viewerLog()).not.toMatch(/[\x07\x1b\r]/);
    await keysSettled();
    expect(keysSent("Press", QNUM_C)).toBe(1);
  }, 90_000);

  it("refuses guest text above its limit and leaves the host's clipboard as it was", async () => {
    guest.copy(Buffer.alloc(300 * 1024, "a"));
    const notice = await copyFromGuest(/did not copy/);
    expect(notice).toMatch(/holds 307200 bytes, more than the 262144 the viewer takes/);
    expect(await readHostClipboard()).toBe("guest secret[201~rm -rf ~\n ok");
    await keysSettled();
    expect(keysSent("Press", QNUM_C)).toBe(1);
  }, 90_000);
});
