import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The same contract on i3 under Xvfb: windows have no pid in i3's tree, so the backend reads _NET_WM_PID.

const needs = ["i3", "Xvfb", "xprop", "import", "convert", "qemu-system-x86_64", "dbus-daemon", "remote-viewer"];

describe.skipIf(!needs.every(hasBinary))(`clan-sessiond on i3 ${skipReason(...needs)}`, () => {
  let i3: I3UnderXvfb;
  let stack: SessionStack;
  let ipc: IpcClient;

  beforeAll(async () => {
    i3 = await startI3UnderXvfb();
    const tmp = join(i3.configPath, "..", "generations");
    stack = await startSessionStack({
      config: {
        networks: {
          family: {
            workspaces: ["2:family"],
            colour: "#2e7dbf",
            source: { profile: await makeGeneration(join(tmp, "family"), { generation: "family-1", vm: { display: "spice" } }) },
          },
          club: {
            workspaces: ["3:club"],
            colour: "#b5462f",
            source: { profile: await makeGeneration(join(tmp, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) },
          },
        },
        switchDebounceMs: 100,
      },
      daemonEnv: { I3SOCK: i3.socketPath, DISPLAY: i3.display },
    });
    ipc = await IpcClient.connect({ socketPath: i3.socketPath });
  });

  afterAll(async () => {
    ipc?.close();
    await stack?.stop();
    await i3?.stop();
  });

  const markedWindow = async (workspace: string, mark: string): Promise<TreeNode | undefined> => {
    const node = [...walkTree(await ipc.getTree())].find((n) => n.type === "workspace" && n.name === workspace);
    return node && [...walkTree(node)].find((n) => n.marks.includes(mark));
  };

  it("focus starts the VM; its viewer, found by _NET_WM_PID, lands on the workspace with the prefix drawn", async () => {
    await ipc.runCommand("workspace 2:family");
    await stack.waitForNetwork("family", (s) => s.vmState === "running" && s.focused);
    const viewer = await waitUntil(() => markedWindow("2:family", "clan:family"), "the viewer window on 2:family");
    expect(viewer.window_properties?.class).toBe("Remote-viewer");
    const shot = await x11Screenshot(i3.display, join(stack.root, "i3.png"));
    expect(await countPixels(shot, { x: 0, y: 0, width: 640, height: 20 }, "#2e7dbf")).toBeGreaterThan(300);
  });

  it("survives an in-place i3 restart: no duplicate VM, and focus still enters networks", async () => {
    const before = await stack.vms.list();
    await i3.restart("in-place");
    await ipc.runCommand("workspace 3:club");
    await stack.waitForNetwork("club", (s) => s.vmState === "running" && s.focused);
    await stack.waitForNetwork("family", (s) => s.vmState === "paused");
    const after = await stack.vms.list();
    expect(after.map((vm) => vm.network)).toEqual(["club", "family"]);
    expect(after.find((vm) => vm.network === "family")!.pid).toBe(before.find((vm) => vm.network === "family")!.pid);
    expect(stack.sessiond.output()).not.toMatch(/event stream ended/);
  });
});
