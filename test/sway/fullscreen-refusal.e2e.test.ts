import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WindowManagerBackend } from "../../src/session/window-manager-backend.js";
import { connectWindowManager } from "../../src/sway/backend.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";

// A fullscreen window has no frame, so no trusted prefix: a network's client could go fullscreen and pass its
// window off as the host's. Here a real Wayland client asks sway for fullscreen itself (weston-fullscreen's `f`
// key sends xdg_toplevel.set_fullscreen), once as a window clan-sessiond's backend has claimed for a network, once
// as a host window nobody claimed.

const COLOUR = "#2e7dbf";
const needs = ["sway", "wtype", "grim", "convert", "weston-fullscreen"];

describe.skipIf(!needs.every(hasBinary))(`fullscreen requests of network windows on sway ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let ipc: IpcClient;
  let backend: WindowManagerBackend;
  const log: string[] = [];

  const windowOf = async (child: ResultPromise): Promise<TreeNode | undefined> =>
    [...walkTree(await ipc.getTree())].find((node) => node.pid !== undefined && node.pid === child.pid);
  const openClient = async (): Promise<{ child: ResultPromise; window: TreeNode }> => {
    const child = sway.spawnClient("weston-fullscreen");
    const window = await waitUntil(() => windowOf(child), "weston-fullscreen's window", 20_000);
    return { child, window };
  };
  /**
   * weston-fullscreen asks for fullscreen on `f` (the request comes from the client, as a guest's app would send
   * it). wtype's keyboard is new at each run and a client binds it asynchronously, so the first press may be lost:
   * press until `done`.
   */
  const pressFUntil = async <T>(done: () => Promise<T | undefined>, what: string): Promise<T> =>
    waitUntil(
      async () => {
        const result = await done();
        if (result !== undefined) return result;
        await execa("wtype", ["f"], { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
        await sleep(500);
        return undefined;
      },
      what,
      15_000,
    );

  beforeAll(async () => {
    sway = await startHeadlessSway();
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
    // clan-sessiond finds its WM through SWAYSOCK, as when the session starts it.
    process.env.SWAYSOCK = sway.socketPath;
    backend = await connectWindowManager("sway", (line) => log.push(line));
  });

  afterAll(async () => {
    await backend?.close();
    ipc?.close();
    await sway?.stop();
  });

  it("takes a claimed window out of the fullscreen its client asked for, and its prefix is drawn again", async () => {
    await ipc.runCommand("workspace 2:family");
    const { child, window } = await openClient();
    await backend.claimWindowsOf(child.pid!, { network: "family", workspace: "2:family", label: "family", colour: COLOUR });
    await waitUntil(async () => ((await windowOf(child))?.marks.includes("clan:family") ? true : undefined), "the claim's mark");
    await pressFUntil(async () => (log.includes(`refused fullscreen for network window ${window.id}`) ? true : undefined), "the refusal");
    await waitUntil(async () => ((await windowOf(child))?.fullscreen_mode === 0 ? true : undefined), "the window to leave fullscreen", 10_000);
    const node = (await windowOf(child))!;
    const height = (node["deco_rect"] as { height: number }).height;
    const shot = await swayScreenshot(sway.waylandDisplay, join(sway.runtimeDir, "refused.png"));
    expect(await countPixels(shot, { x: node.rect.x, y: node.rect.y - height, width: node.rect.width, height }, COLOUR)).toBeGreaterThan(300);
  });

  it("leaves a host window that nobody claimed fullscreen when its client asks", async () => {
    await ipc.runCommand("workspace 1");
    const { child, window } = await openClient();
    await pressFUntil(async () => ((await windowOf(child))?.fullscreen_mode === 1 ? true : undefined), "the host window to go fullscreen");
    // The claimed window's refusal came within milliseconds: a second is plenty for a wrong one to show.
    await sleep(1000);
    expect((await windowOf(child))?.fullscreen_mode).toBe(1);
    expect(log.filter((line) => line.includes(`window ${window.id}`))).toEqual([]);
  });
});
