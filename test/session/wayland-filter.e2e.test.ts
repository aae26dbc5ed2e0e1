import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { REPO } from "../helpers/daemons.js";
import { acceptsConnections, collectOutput, hasBinary, skipReason, stopProcess, waitFor } from "../helpers/processes.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { atLeast, installedVersion } from "../helpers/versions.js";
import { encodeMessage, readGlobal, WireConnection } from "../helpers/wayland-wire.js";
import { PRIVILEGED_GLOBALS } from "./privileged-globals.js";

// A network VM's app windows through clan-wayland-filter, with the real components: headless sway, the filter in
// front of `waypipe client` as clan-sessiond starts them, and guest apps run under `waypipe server` on the host
// (the test guest has no wayland-info, grim or swaynag; waypipe.e2e.test.ts runs a real guest's window through
// the same filter). Each app plays what a hostile guest app would try.

const FILTER = join(REPO, "dist", "clan-wayland-filter");
const needs = ["sway", "waypipe", "wayland-info", "grim", "swaynag", "weston-simple-touch"];


const swayVersion = installedVersion("sway");
const hasSecurityContext = atLeast(swayVersion, [1, 10, 0]);

describe.skipIf(!needs.every(hasBinary))(`a network's app windows through clan-wayland-filter ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let ipc: IpcClient;
  let dir: string;
  let guestRuntime: string;
  let filter: ResultPromise;
  let filterOutput: () => string;
  let allowList: string[];
  const waypipeSocket = () => join(dir, "family-waypipe.sock");

  beforeAll(async () => {
    // Built by `npm run build` (on the host also for the Debian 13 lane, whose root has no gcc).
    await access(FILTER, constants.X_OK).catch(() => {
      throw new Error(`${FILTER} is missing: run npm run build`);
    });
    allowList = [...(await readFile(join(REPO, "src/session/wayland-filter/allow-list.h"), "utf8")).matchAll(/^\s*\{"([a-z0-9_]+)", "/gm)].map((m) => m[1]!);
    sway = await startHeadlessSway({ config: "default_border normal\n" });
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
    dir = await mkdtemp("/tmp/clan-allowlist-e2e-");
    guestRuntime = await mkdtemp("/tmp/clan-allowlist-guest-");
    // As clan-sessiond runs it: the filter listens, and runs `waypipe client` with WAYLAND_DISPLAY set to itself.
    filter = execa(FILTER, ["--listen", join(dir, "family-wayland.sock"), "--app-id", "family", "--", "waypipe", "--no-gpu", "-s", waypipeSocket(), "client"], {
      env: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
      reject: false,
    });
    filterOutput = collectOutput(filter);
    await waitFor("waypipe client's socket", async () => ((await acceptsConnections(waypipeSocket())) ? true : undefined), 15_000);
  });

  afterAll(async () => {
    ipc?.close();
    if (filter) await stopProcess(filter);
    await sway?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (guestRuntime) await rm(guestRuntime, { recursive: true, force: true });
  });

  /** Runs `command` as a guest app: `waypipe server` connects to the host's waypipe client, as the bridge does. */
  const guestApp = (command: string, args: string[] = []) =>
    execa("waypipe", ["--no-gpu", "-s", waypipeSocket(), "server", "--", command, ...args], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: guestRuntime, HOME: guestRuntime },
      extendEnv: false,
      cwd: REPO,
      reject: false,
      all: true,
      stdin: "ignore",
      // Its own process group: the app is waypipe server's child and must go with it (stopGuestApp).
      detached: true,
      timeout: 60_000,
    });

  const stopGuestApp = async (app: Promise<unknown> & { pid?: number | undefined }): Promise<void> => {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      try {
        if (app.pid !== undefined) process.kill(-app.pid, signal);
      } catch {
        // ESRCH: the group has exited already.
      }
      const ended = await Promise.race([app.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000))]);
      if (ended) return;
    }
  };

  const interfaces = (waylandInfo: string) => [...waylandInfo.matchAll(/interface: '([a-z0-9_]+)'/g)].map((m) => m[1]!);
  const diagnostics = () => `\n--- filter and waypipe client:\n${filterOutput()}\n--- sway:\n${sway.log().slice(-2000)}`;

  it("an app is shown only the allowed globals, while sway offers the privileged ones to its own clients", async () => {
    const direct = await execa("wayland-info", [], { env: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir }, reject: false });
    expect(interfaces(direct.stdout)).toEqual(expect.arrayContaining(PRIVILEGED_GLOBALS));
    const info = await guestApp("wayland-info");
    expect(info.exitCode, `${info.all}${diagnostics()}`).toBe(0);
    const shown = interfaces(info.stdout);
    // Every privileged global this sway has, including those only one version offers (input-inhibit, kwin idle).
    const privileged = interfaces(direct.stdout).filter((name) => !allowList.includes(name) && name !== "wp_security_context_manager_v1");
    expect(shown).toEqual(expect.arrayContaining(["wl_compositor", "wl_subcompositor", "wl_shm", "xdg_wm_base", "wl_seat", "wl_output", "wp_viewporter", "zxdg_decoration_manager_v1", "wl_data_device_manager"]));
    expect(shown.filter((name) => !allowList.includes(name))).toEqual([]);
    expect(shown.filter((name) => privileged.includes(name))).toEqual([]);
  });

  it("grim cannot capture the host's screen", async () => {
    const direct = await execa("grim", [join(dir, "direct.png")], { env: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir }, reject: false, all: true });
    expect(direct.exitCode, `grim on sway itself must work for this test to mean anything: ${direct.all}`).toBe(0);
    const grim = await guestApp("grim", [join(guestRuntime, "stolen.png")]);
    expect(grim.exitCode, grim.all).not.toBe(0);
    expect(grim.all).toMatch(/screencopy/i);
    await expect(readFile(join(guestRuntime, "stolen.png"))).rejects.toThrow();
  });

  it("swaynag cannot put its bar over the desktop: there is no layer shell", async () => {
    // With a layer shell swaynag would show its bar and wait for the user (until guestApp's timeout kills it);
    // without one it stops at its own check. waypipe server's exit status is not the app's: read what it said.
    const nag = await guestApp("swaynag", ["-m", "Your session has expired, re-enter your password"]);
    expect(nag.all).toMatch(/Assertion `swaynag->compositor && swaynag->layer_shell && swaynag->shm' failed/);
  });

  it("a bind to a hidden global's name is refused with a protocol error and the app's connection closed", async () => {
    // The compositor's names are the same for every client: learn the screencopy manager's from sway directly.
    const direct = await WireConnection.connect(sway.waylandDisplay);
    direct.send(Buffer.concat([encodeMessage(1, 1, [{ uint: 2 }]), encodeMessage(1, 0, [{ uint: 3 }])]));
    await waitFor("sway's globals", () => (direct.received.some((m) => m.object === 3) ? true : undefined));
    const screencopy = direct.received.filter((m) => m.object === 2 && m.opcode === 0).map((m) => readGlobal(m.body)).find((g) => g.interface === "zwlr_screencopy_manager_v1");
    direct.close();
    expect(screencopy).toBeDefined();

    const attack = await guestApp("node", ["--import", "tsx", "test/helpers/bind-hidden-global.ts", String(screencopy!.name), "zwlr_screencopy_manager_v1"]);
    const outcome = JSON.parse(attack.stdout.split("\n").find((line) => line.startsWith("{")) ?? "null") as { globals: string[]; accepted: boolean } | null;
    expect(outcome, `${attack.all}${diagnostics()}`).not.toBeNull();
    expect(outcome!.globals).not.toContain("zwlr_screencopy_manager_v1");
    expect(outcome!.accepted).toBe(false);
    expect(filterOutput()).toContain(`closing a client: a bind to invalid global zwlr_screencopy_manager_v1 (${screencopy!.name})`);
  });

  /** The windows whose Wayland client is a process of the filter's (one forked per app connection). */
  const filteredWindows = async (): Promise<TreeNode[]> => {
    const windows: TreeNode[] = [];
    for (const node of walkTree(await ipc.getTree())) {
      if (node.type === "con" && node.pid !== undefined && (await parentOf(node.pid)) === filter.pid) windows.push(node);
    }
    return windows;
  };

  it("two apps at once each show a window, drawn through wl_shm (its fds cross the filter)", async () => {
    const first = guestApp("weston-simple-touch");
    const second = guestApp("weston-simple-touch");
    try {
      const windows = await waitFor("two windows through the filter", async () => {
        const found = await filteredWindows();
        return found.length === 2 ? found : undefined;
      }, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}${diagnostics()}`);
      });
      expect(new Set(windows.map((window) => window.pid)).size).toBe(2);
      expect(windows.map((window) => window.app_id)).toEqual(["simple-touch", "simple-touch"]);
    } finally {
      await Promise.all([stopGuestApp(first), stopGuestApp(second)]);
    }
  });

  it.runIf(hasSecurityContext)("sway ≥ 1.10: the filter's relays connect through a security context, on which sway itself withholds its privileged globals", async () => {
    expect(filterOutput()).toMatch(/security context: attached \(sandbox engine clan-desktop, app id family\)/);
    // The relays' socket, with no allow-list in front of it: what is missing here, sway withholds on its own.
    const sandboxed = await execa("wayland-info", [], { env: { WAYLAND_DISPLAY: join(dir, "family-wayland.sock.ctx"), XDG_RUNTIME_DIR: sway.runtimeDir }, reject: false, all: true });
    expect(sandboxed.exitCode, sandboxed.all).toBe(0);
    const globals = interfaces(sandboxed.stdout);
    expect(globals).toContain("wl_compositor");
    // sway 1.10 counts the primary selection as unprivileged: only the allow-list keeps that one away.
    expect(globals.filter((name) => PRIVILEGED_GLOBALS.includes(name))).toEqual(["zwp_primary_selection_device_manager_v1"]);
  });

  it.runIf(!hasSecurityContext)("sway < 1.9: the filter says there is no security context and filters alone", () => {
    expect(filterOutput()).toMatch(/security context: the compositor has none; the allow-list alone filters/);
  });
});

async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
