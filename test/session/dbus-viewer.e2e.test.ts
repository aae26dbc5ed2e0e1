import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { markedWindow } from "../helpers/marked-window.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startUserSession, type UserSession } from "../helpers/user-session.js";
import { expectGuestScreenInViewerFrame } from "./framed-viewer-window.js";

// A network whose VM has display "dbus", on real headless sway, with the real daemons and clan-viewer all running as
// the unprivileged test user, and the real test guest under QEMU 7.2: entering the network's workspace starts the VM,
// and clan-sessiond starts clan-viewer on the VM's own display bus; its window lands on that workspace with sway's
// [label] title in the network's colour and clan-viewer's own frame, and shows the guest's screen (the firmware's
// text) inside the frame. A viewer killed while the VM runs comes back; leaving the network stops the VM (its onLeave
// policy), which takes the viewer away for good.

const COLOUR = "#2e7dbf";
const nodeGtk = await import("node-gtk").then(
  () => "",
  () => " [skipped: node-gtk did not build]",
);
const needs = ["sway", "grim", "convert", "qemu-system-x86_64", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary) || nodeGtk !== "")(`clan-viewer for a dbus display on sway ${skipReason(...needs)}${nodeGtk}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let ipc: IpcClient;

  beforeAll(async () => {
    sway = await startHeadlessSway({ config: "default_border normal\n" });
    const { gid } = await stat(sway.runtimeDir);
    const generation = await makeGeneration(join(sway.runtimeDir, "generations", "family"), { generation: "family-1", vm: { display: "dbus", stateDiskMiB: 0 } });
    user = await startUserSession(
      { uid: sway.uid, gid },
      {
        config: { networks: { family: { workspaces: ["2:family"], colour: COLOUR, source: { profile: generation }, onLeave: { action: "stop", afterSeconds: 0 } } }, switchDebounceMs: 100 },
        wmEnv: { SWAYSOCK: sway.socketPath, WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
      },
    );
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
  }, 60_000);

  afterAll(async () => {
    ipc?.close();
    await user?.stop();
    await sway?.stop();
  });

  const viewerWindow = async () => markedWindow(await ipc.getTree(), "clan:family");

  it("entering the network shows the guest's screen in clan-viewer, on the network's workspace, in the network's frame", async () => {
    await ipc.runCommand("workspace 2:family");
    await user.waitForNetwork("family", (s) => s.vmState === "running", 90_000);
    const vm = (await user.vms.list()).find((status) => status.network === "family")!;
    expect(vm.display).toBe("dbus");
    const found = await waitUntil(viewerWindow, `the viewer window, claimed and marked:\n${user.sessiond.output()}`, 60_000);
    expect(found.workspace).toBe("2:family");
    expect(found.node.name).toBe("[family]");
    // The window belongs to clan-viewer, run as the test user, as a child of clan-sessiond.
    const pid = found.node.pid!;
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("clan-viewer.js");
    expect((await stat(`/proc/${pid}`)).uid).toBe(sway.uid);

    const { shot } = await expectGuestScreenInViewerFrame({
      node: found.node,
      colour: COLOUR,
      shotName: "dbus-display-on-sway.png",
      screenshot: (path) => swayScreenshot(sway.waylandDisplay, path),
      explain: () => user.sessiond.output(),
    });
    // sway's title bar above the window carries the [family] prefix in the same colour (clan-sessiond's decoration).
    const titleBar = { x: found.node.rect.x, y: found.node.rect.y - (found.node["deco_rect"] as { height: number }).height, width: 200, height: 20 };
    expect(await countPixels(shot, titleBar, COLOUR)).toBeGreaterThan(300);
  }, 240_000);

  it("a viewer that dies while the VM runs is started again, on the same workspace", async () => {
    const first = (await viewerWindow())!.node.pid!;
    process.kill(first, "SIGKILL");
    const again = await waitUntil(async () => {
      const found = await viewerWindow();
      return found && found.node.pid !== first ? found : undefined;
    }, `a new viewer window:\n${user.sessiond.output()}`, 60_000);
    expect(again.workspace).toBe("2:family");
    expect(user.sessiond.output()).toMatch(/family: clan-viewer ended while the VM runs; starting it again in 1000 ms/);
  }, 90_000);

  it("leaving the network stops its VM (its policy), and the viewer goes with it", async () => {
    const pid = (await viewerWindow())!.node.pid!;
    await ipc.runCommand("workspace 1");
    await user.waitForNetwork("family", (s) => s.vmState === "stopped", 30_000);
    await waitUntil(async () => ((await viewerWindow()) === undefined ? true : undefined), "the viewer window to go", 30_000);
    await waitUntil(() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ? true : undefined;
      } catch {
        return true;
      }
    }, "clan-viewer to exit", 15_000);
    expect(user.sessiond.output().match(/clan-viewer ended while the VM runs/g)).toHaveLength(1);
  }, 60_000);
});
