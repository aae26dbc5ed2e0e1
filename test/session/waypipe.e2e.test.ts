import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import { startSessionOnSway, type SessionOnSway } from "../helpers/session-on-sway.js";
import type { SessionStack } from "../helpers/session-stack.js";
import type { HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";

// A network VM's app window forwarded with waypipe, end to end: real headless sway, clan-vmd booting the test
// guest under QEMU, clan-sessiond starting `waypipe client` and bridging it to the VM's virtio-serial port, and
// the guest running `waypipe server -- weston-simple-touch` (test/guest/init.sh, clan.waypipe-demo=1). The host's
// waypipe client reaches sway only through clan-wayland-filter (what it lets through: wayland-filter.e2e.test.ts).

const COLOUR = "#2e7dbf";
const needs = ["sway", "grim", "convert", "qemu-system-x86_64", "dbus-daemon", "waypipe"];

describe.skipIf(!needs.every(hasBinary))(`waypipe display on sway ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let stack: SessionStack;
  let ipc: IpcClient;

  let session: SessionOnSway;

  beforeAll(async () => {
    session = await startSessionOnSway(async (sway) => ({
      networks: {
        family: {
          label: "Family",
          workspaces: ["2:family"],
          colour: COLOUR,
          source: { profile: await makeGeneration(join(sway.runtimeDir, "generations", "family"), { generation: "family-1", waypipeDemo: true }) },
          vm: { display: "waypipe" },
        },
      },
      switchDebounceMs: 100,
    }));
    ({ sway, stack, ipc } = session);
  });

  afterAll(async () => {
    await session?.stop();
  });

  const forwardedWindows = async (): Promise<{ workspace: string | undefined; window: TreeNode }[]> => {
    const found: { workspace: string | undefined; window: TreeNode }[] = [];
    for (const workspace of walkTree(await ipc.getTree())) {
      if (workspace.type !== "workspace") continue;
      for (const node of walkTree(workspace)) {
        if (node.type === "con" && node.pid !== undefined && node.marks.includes("clan:family")) found.push({ workspace: workspace.name ?? undefined, window: node });
      }
    }
    return found;
  };

  /** What the daemons and the guest said, for a failure message: a forwarded window crosses all of them. */
  const diagnostics = async (): Promise<string> => {
    const consoleLog = await readFile(join(stack.root, "state", "family", "console.log"), "utf8").catch((error: Error) => error.message);
    return `\n--- clan-sessiond:\n${stack.sessiond.output()}\n--- guest console:\n${consoleLog.slice(-4000)}`;
  };

  const waitOrExplain = async <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> => {
    try {
      return await waitUntil(probe, what, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}${await diagnostics()}`);
    }
  };

  let windowPid = 0;
  let clientPid = 0;

  it("focusing the network's workspace boots its VM, and the guest's window appears there through clan-wayland-filter, claimed by the filter's pid", async () => {
    await ipc.runCommand("workspace 2:family");
    await stack.waitForNetwork("family", (status) => status.vmState === "running", 90_000);
    const [forwarded] = await waitOrExplain(async () => {
      const windows = await forwardedWindows();
      return windows.length > 0 ? windows : undefined;
    }, "the forwarded window", 120_000);
    expect(forwarded!.workspace).toBe("2:family");
    // The app id is the guest's to choose and proves nothing; it only shows which window this is.
    expect(forwarded!.window.app_id).toBe("simple-touch");
    windowPid = forwarded!.window.pid!;
    // sway's client is the filter's relay for this app (a child per app connection); the filter runs waypipe client.
    const commandLine = (await readFile(`/proc/${windowPid}/cmdline`, "utf8")).split("\0").slice(0, -1);
    expect(commandLine[0]).toMatch(/clan-wayland-filter$/);
    expect(commandLine.slice(commandLine.indexOf("--") + 1)).toEqual(["waypipe", "--no-gpu", "-s", join(sway.runtimeDir, "clan-sessiond", "family-waypipe.sock"), "client"]);
    clientPid = await parentOf(windowPid);
    expect((await readFile(`/proc/${clientPid}/cmdline`, "utf8")).split("\0")[0]).toMatch(/clan-wayland-filter$/);
    expect(await parentOf(clientPid)).toBe(stack.sessiond.process.pid);
    expect(stack.sessiond.output()).not.toMatch(/waypipe bridge:|cannot show|cannot place/);

    // GET_TREE does not report title_format: the prefix in the network's colour is proven by sway's pixels. sway
    // draws the frame once the app has answered its configure, which crosses waypipe and a TCG guest: poll.
    const shot = join(stack.root, "waypipe.png");
    const titleBar = { x: 0, y: 0, width: 640, height: 24 };
    await waitOrExplain(async () => ((await countPixels(await swayScreenshot(sway.waylandDisplay, shot), titleBar, COLOUR)) > 500 ? true : undefined), "the title bar in the network's colour", 30_000);
  }, 240_000);

  it("closing the window ends its session, and the guest's next session opens a new one through the same client", async () => {
    await ipc.runCommand(`[con_mark="clan:family"] kill`);
    const [next] = await waitOrExplain(async () => {
      const windows = await forwardedWindows();
      return windows.some(({ window }) => window.pid !== windowPid) ? windows : undefined;
    }, "the next session's window", 60_000);
    expect(await isAlive(windowPid)).toBe(false);
    windowPid = next!.window.pid!;
    expect(await parentOf(windowPid)).toBe(clientPid);
    expect(next!.workspace).toBe("2:family");
  }, 90_000);

  it("a restarted clan-sessiond starts its own waypipe client, and the guest's session comes back through it", async () => {
    await stack.restartSessiond();
    const [next] = await waitOrExplain(async () => {
      const windows = await forwardedWindows();
      return windows.some(({ window }) => window.pid !== windowPid) ? windows : undefined;
    }, "the window through the new waypipe client", 60_000);
    expect(await isAlive(clientPid)).toBe(false);
    windowPid = next!.window.pid!;
    clientPid = await parentOf(windowPid);
    expect(await parentOf(clientPid)).toBe(stack.sessiond.process.pid);
    expect(next!.workspace).toBe("2:family");
  }, 90_000);

  it("stopping the VM removes the window and ends the waypipe client with its session", async () => {
    expect(clientPid).toBeGreaterThan(0);
    await stack.session.stop("family");
    await stack.waitForNetwork("family", (status) => status.vmState === "stopped", 60_000);
    await waitOrExplain(async () => ((await forwardedWindows()).length === 0 ? true : undefined), "the window to go", 15_000);
    await waitOrExplain(async () => (!(await isAlive(clientPid)) && !(await isAlive(windowPid)) ? true : undefined), "waypipe client to exit", 15_000);
    expect(existsSync(join(sway.runtimeDir, "clan-sessiond", "family-waypipe.sock"))).toBe(false);
  });
});

/** Fields 3… of /proc/<pid>/stat; the command name (field 2) may contain spaces and parentheses. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
}

async function parentOf(pid: number): Promise<number> {
  return Number((await statFields(pid))?.[1]);
}

/** A zombie counts as gone: an orphaned session child is reaped by whatever PID 1 this machine has, if any. */
async function isAlive(pid: number): Promise<boolean> {
  const state = (await statFields(pid))?.[0];
  return state !== undefined && state !== "Z";
}
