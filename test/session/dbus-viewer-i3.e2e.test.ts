import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { markedWindow } from "../helpers/marked-window.js";
import { waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { expectGuestScreenInViewerFrame } from "./framed-viewer-window.js";

// A network whose VM has display "dbus", on real i3 under Xvfb, with the real clan-vmd, clan-sessiond and the real
// test guest under QEMU 7.2: entering the network's workspace starts the VM and clan-sessiond starts clan-viewer on
// the VM's display bus. i3's tree has no pids: the i3 backend finds the viewer's window by its _NET_WM_PID (GTK 4
// sets it) and puts it on the network's workspace, marked, with i3's title bar carrying the [family] prefix in the
// network's colour, and clan-viewer's own frame around the guest's screen inside it.

const COLOUR = "#2e7dbf";
const nodeGtk = await import("node-gtk").then(
  () => "",
  () => " [skipped: node-gtk did not build]",
);
const needs = ["i3", "Xvfb", "xprop", "import", "convert", "qemu-system-x86_64", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary) || nodeGtk !== "")(`clan-viewer for a dbus display on i3 ${skipReason(...needs)}${nodeGtk}`, () => {
  let i3: I3UnderXvfb;
  let stack: SessionStack;
  let ipc: IpcClient;

  beforeAll(async () => {
    i3 = await startI3UnderXvfb({ config: "default_border normal\n" });
    const generation = await makeGeneration(join(i3.configPath, "..", "generations", "family"), { generation: "family-1", vm: { display: "dbus", stateDiskMiB: 0 } });
    stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: COLOUR, source: { profile: generation } } }, switchDebounceMs: 100 },
      daemonEnv: { I3SOCK: i3.socketPath, DISPLAY: i3.display },
    });
    ipc = await IpcClient.connect({ socketPath: i3.socketPath });
  }, 60_000);

  afterAll(async () => {
    ipc?.close();
    await stack?.stop();
    await i3?.stop();
  });

  const viewerWindow = async () => markedWindow(await ipc.getTree(), "clan:family");

  it("entering the network shows the guest's screen in clan-viewer, on the network's workspace, with the prefix and frame", async () => {
    await ipc.runCommand("workspace 2:family");
    await stack.waitForNetwork("family", (s) => s.vmState === "running" && s.focused, 90_000);
    expect((await stack.vms.list()).find((vm) => vm.network === "family")?.display).toBe("dbus");
    const found = await waitUntil(viewerWindow, `the viewer window, claimed and marked:\n${stack.sessiond.output()}`, 60_000);
    expect(found.workspace).toBe("2:family");
    // The window is clan-viewer's, a child of clan-sessiond, found through _NET_WM_PID.
    const xprop = await execa("xprop", ["-id", String(found.node.window), "_NET_WM_PID"], { env: { ...process.env, DISPLAY: i3.display } });
    const pid = Number(/_NET_WM_PID\(CARDINAL\) = (\d+)/.exec(xprop.stdout)?.[1]);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("clan-viewer.js");
    expect(found.node.window_properties?.title).toBe("[family]");

    const { shot, rect } = await expectGuestScreenInViewerFrame({
      node: found.node,
      colour: COLOUR,
      shotName: "dbus-display-on-i3.png",
      screenshot: (path) => x11Screenshot(i3.display, path),
      explain: () => stack.sessiond.output(),
    });
    // i3's title bar above the window carries the [family] prefix in the same colour (clan-sessiond's decoration).
    const decoration = (found.node["deco_rect"] as { height: number }).height;
    const titleBar = { x: rect.x, y: rect.y - decoration, width: 200, height: decoration };
    expect(titleBar.height).toBeGreaterThan(0);
    expect(await countPixels(shot, titleBar, COLOUR)).toBeGreaterThan(300);
  }, 240_000);
});
