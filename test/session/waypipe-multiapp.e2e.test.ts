import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import { startSessionOnSway, type SessionOnSway } from "../helpers/session-on-sway.js";
import type { SessionStack } from "../helpers/session-stack.js";
import type { HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { PRIVILEGED_GLOBALS } from "./privileged-globals.js";

// Several apps of one VM at once, end to end: real headless sway, clan-vmd booting the test guest under QEMU with
// three waypipe ports (vm.json waypipe.ports), clan-sessiond bridging each port into its waypipe client behind
// clan-wayland-filter, and the guest (test/guest/init.sh) playing three parts at once:
// - first, through each port in turn, wayland-info: what an app sees on every stream;
// - one port held by a hostile app that sends a session header and then garbage, again after every drop;
// - three demo apps (weston-simple-touch) for the two ports left: two show, the third gets the guest's error.

const COLOUR = "#2e7dbf";
const PORTS = 3;
const needs = ["sway", "grim", "convert", "qemu-system-x86_64", "dbus-daemon", "waypipe", "wayland-info"];


describe.skipIf(!needs.every(hasBinary))(`several apps of one VM at once through waypipe on sway ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let stack: SessionStack;
  let ipc: IpcClient;

  let session: SessionOnSway;

  beforeAll(async () => {
    session = await startSessionOnSway(async (sway) => {
      const profile = await makeGeneration(join(sway.runtimeDir, "generations", "family"), {
        generation: "family-1",
        waypipeDemo: true,
        waypipeApps: 3,
        waypipeProbe: true,
        waypipeFlood: true,
        vm: { memoryMiB: 768, waypipe: { ports: PORTS } },
      });
      return {
        networks: {
          family: { label: "Family", workspaces: ["2:family"], colour: COLOUR, source: { profile }, vm: { display: "waypipe" } },
        },
        switchDebounceMs: 100,
      };
    });
    ({ sway, stack, ipc } = session);
  });

  afterAll(async () => {
    await session?.stop();
  });

  /**
   * The windows whose Wayland client is a relay of clan-wayland-filter, as clan-sessiond claims them. Not by the
   * `clan:family` mark: sway keeps a mark on one window only, so of several windows the latest claimed holds it.
   */
  const forwardedWindows = async (): Promise<{ workspace: string | undefined; window: TreeNode }[]> => {
    const found: { workspace: string | undefined; window: TreeNode }[] = [];
    for (const workspace of walkTree(await ipc.getTree())) {
      if (workspace.type !== "workspace") continue;
      for (const node of walkTree(workspace)) {
        if (node.type === "con" && typeof node.pid === "number" && (await isFilterRelay(node.pid))) found.push({ workspace: workspace.name ?? undefined, window: node });
      }
    }
    return found;
  };

  const consoleLog = () => readFile(join(stack.root, "state", "family", "console.log"), "utf8").catch((error: Error) => error.message);

  const diagnostics = async (): Promise<string> => {
    // The third app's error repeats every few seconds: once is enough here.
    const guest = (await consoleLog()).split("\n").filter((line, index, lines) => !line.startsWith("clan-waypipe: cannot show") || lines.indexOf(line) === index);
    const views: string[] = [];
    for (const workspace of walkTree(await ipc.getTree())) {
      if (workspace.type !== "workspace") continue;
      for (const node of walkTree(workspace)) if (node.pid !== undefined && node.pid !== null) views.push(`${workspace.name}: pid ${node.pid} ${node.app_id} [${node.marks.join(",")}]`);
    }
    const windows = views;
    return `\n--- windows: ${windows.join("; ")}\n--- clan-sessiond:\n${stack.sessiond.output().slice(-5000)}\n--- guest console:\n${guest.join("\n").slice(-8000)}`;
  };

  const waitOrExplain = async <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> => {
    try {
      return await waitUntil(probe, what, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}${await diagnostics()}`);
    }
  };

  /** Two windows whose pids are not in `gone`. sway, on a machine this loaded, may miss the IPC client's 5 s
   *  deadline for one GET_TREE: that round is asked again, and the wait's own bound stays. */
  const twoWindowsWithout = (gone: number[]) =>
    waitOrExplain(async () => {
      const windows = await forwardedWindows().catch((error: Error) => {
        if (/got no answer within/.test(error.message)) return [];
        throw error;
      });
      return windows.length === 2 && windows.every(({ window }) => !gone.includes(window.pid!)) ? windows : undefined;
    }, `two forwarded windows other than ${gone.join(", ") || "none"}`, 120_000);

  let filterPid = 0;
  let windowPids: number[] = [];

  it("the VM has a port per app it may show at once, and an app on each port sees only the allow-list's globals", async () => {
    await ipc.runCommand("workspace 2:family");
    await stack.waitForNetwork("family", (status) => status.vmState === "running", 120_000);
    const [vm] = (await stack.vms.list()).filter((status) => status.network === "family");
    expect(vm!.waypipeSockets).toHaveLength(PORTS);
    expect(vm!.displaySocket).toBe(vm!.waypipeSockets[0]);

    // What sway offers a client that does not come through the filter: the probe below would see these.
    const direct = await execa("wayland-info", [], { env: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir } });
    expect(direct.stdout).toContain("zwlr_screencopy_manager_v1");

    const probes = await waitOrExplain(async () => {
      const done = [...(await consoleLog()).matchAll(/^init: waypipe-probe (vport\w+) done \((\d+)\)/gm)];
      return done.length === PORTS ? done : undefined;
    }, `wayland-info through each of the ${PORTS} ports`, 180_000);
    expect(probes.map((match) => match[2])).toEqual(["0", "0", "0"]);
    const allowList = [...(await readFile(join(REPO, "src/session/wayland-filter/allow-list.h"), "utf8")).matchAll(/^\s*\{"([a-z0-9_]+)", "/gm)].map((m) => m[1]!);
    const log = await consoleLog();
    for (const [, port] of probes) {
      const globals = [...log.matchAll(new RegExp(`^init: waypipe-probe ${port} global (\\w+)`, "gm"))].map((match) => match[1]!);
      expect(globals, port).toEqual(expect.arrayContaining(["wl_compositor", "wl_shm", "xdg_wm_base", "wl_seat"]));
      expect(globals.filter((name) => PRIVILEGED_GLOBALS.includes(name)), port).toEqual([]);
      expect(globals.filter((name) => !allowList.includes(name)), port).toEqual([]);
    }
    expect(new Set(probes.map((match) => match[1])).size).toBe(PORTS);
  }, 330_000);

  it("two guest apps at once: both windows on the network's workspace, claimed with the prefix, each through a relay of the filter", async () => {
    const windows = await twoWindowsWithout([]);
    for (const { workspace, window } of windows) {
      expect(workspace).toBe("2:family");
      expect(window.app_id).toBe("simple-touch");
    }
    windowPids = windows.map(({ window }) => window.pid!);
    expect(new Set(windowPids).size).toBe(2);
    // Each window's Wayland client is a relay of its own, forked by the one filter clan-sessiond started.
    const parents = await Promise.all(windowPids.map(parentOf));
    expect(new Set(parents).size).toBe(1);
    filterPid = parents[0]!;
    expect((await readFile(`/proc/${filterPid}/cmdline`, "utf8")).split("\0")[0]).toMatch(/clan-wayland-filter$/);
    expect(await parentOf(filterPid)).toBe(stack.sessiond.process.pid);

    // Both title bars carry the prefix in the network's colour. Each title bar lies at the top of its window's
    // container (whether sway's rect counts it or not, the band around rect.y covers it).
    const shot = join(stack.root, "waypipe-two-apps.png");
    await waitOrExplain(async () => {
      const file = await swayScreenshot(sway.waylandDisplay, shot);
      const counts = await Promise.all(
        windows.map(({ window }) => countPixels(file, { x: window.rect.x, y: Math.max(0, window.rect.y - 28), width: Math.min(window.rect.width, 480), height: 56 }, COLOUR)),
      );
      return counts.every((count) => count > 300) ? true : undefined;
    }, "both title bars in the network's colour", 60_000);
  }, 180_000);

  it("a third app finds every port in use: the guest says so, the host logs it, and nothing else changes", async () => {
    await waitOrExplain(async () => ((await consoleLog()).includes(`clan-waypipe: cannot show weston-simple-touch: all ${PORTS} waypipe ports of this VM are in use`) ? true : undefined), "the guest's error", 60_000);
    // The hostile port carries a session now and then: with both apps' ports busy, every port does. Only now and
    // then: after each drop the rest of its 256 KiB of garbage arrives where a header belongs, and the bridge's
    // pause after each such failure doubles up to 10 s, so a new session may take a minute and more under load.
    await waitOrExplain(async () => (stack.sessiond.output().includes(`family: all ${PORTS} waypipe ports carry an app; the VM cannot show another app until one of them closes`) ? true : undefined), "the host's notice", 150_000);
    expect((await forwardedWindows()).map(({ window }) => window.pid).sort()).toEqual([...windowPids].sort());
  }, 240_000);

  it("the hostile stream's garbage ends only its own sessions: the apps' windows, the filter and clan-sessiond go on", async () => {
    // Counted from here on: the probes' sessions ended before. The apps keep theirs, so these are the hostile port's.
    const before = stack.sessiond.output().length;
    await waitOrExplain(async () => {
      const ended = stack.sessiond.output().slice(before).match(/family: waypipe (session on port \d+ ended|bridge of port \d+: the guest sent 0x)/g) ?? [];
      return ended.length >= 2 ? true : undefined;
    }, "the hostile port's sessions to end twice", 120_000);
    expect((await forwardedWindows()).map(({ window }) => window.pid).sort()).toEqual([...windowPids].sort());
    expect(await isAlive(filterPid)).toBe(true);
    expect((await stack.session.getNetwork("family")).vmState).toBe("running");
  }, 150_000);

  it("closing one window leaves the other working: it still answers a close from the host, and its app comes back", async () => {
    const [closed, kept] = windowPids as [number, number];
    await ipc.runCommand(`[pid=${closed}] kill`);
    // The freed port goes to the closed app's next run or to the third app, whichever opens it first.
    const afterFirst = await twoWindowsWithout([closed]);
    expect(afterFirst.map(({ window }) => window.pid)).toContain(kept);
    // The kept window's stream carries both ways: the close reaches its app in the guest, which exits.
    await ipc.runCommand(`[pid=${kept}] kill`);
    const afterSecond = await twoWindowsWithout([closed, kept]);
    for (const { workspace } of afterSecond) expect(workspace).toBe("2:family");
    for (const { window } of afterSecond) expect(await parentOf(window.pid!)).toBe(filterPid);
    windowPids = afterSecond.map(({ window }) => window.pid!);
  }, 300_000);

  it("stopping the VM removes every window and ends the filter with its relays", async () => {
    await stack.session.stop("family");
    await stack.waitForNetwork("family", (status) => status.vmState === "stopped", 60_000);
    await waitOrExplain(async () => ((await forwardedWindows()).length === 0 ? true : undefined), "the windows to go", 15_000);
    await waitOrExplain(async () => (!(await isAlive(filterPid)) && !(await Promise.all(windowPids.map(isAlive))).some(Boolean) ? true : undefined), "the filter and its relays to exit", 15_000);
  }, 90_000);
});

/** Fields 3… of /proc/<pid>/stat; the command name (field 2) may contain spaces and parentheses. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
}

async function parentOf(pid: number): Promise<number> {
  return Number((await statFields(pid))?.[1]);
}

async function isFilterRelay(pid: number): Promise<boolean> {
  const parent = await parentOf(pid);
  const commandLine = await readFile(`/proc/${parent}/cmdline`, "utf8").catch(() => "");
  return /clan-wayland-filter$/.test(commandLine.split("\0")[0] ?? "");
}

/** A zombie counts as gone. */
async function isAlive(pid: number): Promise<boolean> {
  const state = (await statFields(pid))?.[0];
  return state !== undefined && state !== "Z";
}
