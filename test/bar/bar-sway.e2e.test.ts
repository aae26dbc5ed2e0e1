import { existsSync } from "node:fs";
import { appendFile, chmod, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { configSnippet } from "../../src/sway/config-snippet.js";
import { BAR_RELAY, spawnBar, type BarProcess } from "../helpers/bar-process.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { childPids, hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startUserSession, type UserDaemon, type UserSession } from "../helpers/user-session.js";

// The status bar on real swaybar (and waybar) under headless sway. swaybar runs clan-bar-relay as the sway user,
// which reaches clan-sessiond's bar socket in that user's runtime dir, so the bus and the daemons run as that user
// too (test/helpers/user-session.ts), as in a real session.

const HOSTILE_LABEL = `Fam "ily"]; exec touch /tmp/clan-pwned-bar, kill; </span><b>[ünï`;
const FAMILY = "#2e7dbf";
const CLUB = "#b5462f";
/** swaybar at the top (position top in the snippet's bar), waybar at the bottom. */
const SWAYBAR_REGION = { x: 0, y: 0, width: 1280, height: 30 };
const WAYBAR_REGION = { x: 0, y: 770, width: 1280, height: 30 };

/** The manager window needs node-gtk, an optional dependency. */
const nodeGtkBuilt = await import("node-gtk").then(
  () => true,
  () => false,
);
const needs = ["sway", "swaybar", "grim", "convert", "qemu-system-x86_64", "dbus-daemon", "setpriv"];

describe.skipIf(!needs.every(hasBinary))(`the status bar on sway ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let ipc: IpcClient;
  let clanctlDir: string;
  let config: ConfigInput;
  const bars: BarProcess[] = [];

  const pixels = async (region: typeof SWAYBAR_REGION, colour: string) =>
    countPixels(await swayScreenshot(sway.waylandDisplay, join(user.dir, "shot.png")), region, colour);
  const waitForPixels = (region: typeof SWAYBAR_REGION, colour: string, atLeast: boolean, what: string) =>
    waitUntil(async () => {
      const count = await pixels(region, colour);
      return (atLeast ? count > 100 : count === 0) ? true : undefined;
    }, what, 20_000);
  const bar = (format: "i3bar" | "waybar" = "i3bar", network?: string) => {
    const process = spawnBar(format, network, { XDG_RUNTIME_DIR: sway.runtimeDir });
    bars.push(process);
    return process;
  };

  beforeAll(async () => {
    sway = await startHeadlessSway({ config: "set $mod Mod4\n" });
    const { gid } = await stat(sway.runtimeDir);
    const generations = join(sway.runtimeDir, "generations");
    config = {
      networks: {
        family: {
          label: HOSTILE_LABEL,
          workspaces: ["2:family"],
          colour: FAMILY,
          source: { profile: await makeGeneration(join(generations, "family"), { generation: "family-1" }) },
        },
        club: {
          workspaces: ["3:club"],
          colour: CLUB,
          source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) },
        },
      },
      switchDebounceMs: 100,
    };
    user = await startUserSession({ uid: sway.uid, gid }, {
      config,
      wmEnv: { SWAYSOCK: sway.socketPath, WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
    });
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
    // clanctl and the relay behind a path with a space and a non-ASCII letter, so that the snippet's quoting is
    // exercised.
    clanctlDir = await mkdtemp("/tmp/clan bar ✓ ");
    await chmod(clanctlDir, 0o755);
    await symlink(join(REPO, "bin", "clanctl.js"), join(clanctlDir, "clanctl.js"));
    await symlink(BAR_RELAY, join(clanctlDir, "clan-bar-relay"));
    // The bar as `clanctl sway-config --with-bar` writes it. This sway started before the user's bus, so its
    // environment has no bus address: the command carries it, as a user's session environment would.
    const snippet = configSnippet({
      dialect: "sway",
      networks: Object.entries(config.networks).map(([name, n]) => ({ name, label: n.label ?? name, workspaces: n.workspaces })),
      clanctl: ["env", `DBUS_SESSION_BUS_ADDRESS=${user.busAddress}`, process.execPath, join(clanctlDir, "clanctl.js")],
      barRelay: [join(clanctlDir, "clan-bar-relay")],
      withBar: true,
      configFile: user.configFile,
    });
    const snippetFile = join(sway.runtimeDir, "clan-desktop.conf");
    await writeFile(snippetFile, snippet, { mode: 0o644 });
    await appendFile(sway.configPath, `include ${snippetFile}\n`);
    await ipc.runCommand("reload");
  });

  afterAll(async () => {
    for (const process of bars) await process.stop();
    ipc?.close();
    await user?.stop();
    await sway?.stop();
    if (clanctlDir) await rm(clanctlDir, { recursive: true, force: true });
  });

  it("swaybar runs clan-bar-relay from the snippet and draws every network in its colour, without protocol errors", async () => {
    await waitForPixels(SWAYBAR_REGION, FAMILY, true, "swaybar to draw the family network");
    expect(await pixels(SWAYBAR_REGION, CLUB)).toBeGreaterThan(100);
    // swaybar reports a status line it cannot parse, and Pango markup it cannot render, on sway's stderr.
    expect(sway.log()).not.toMatch(/swaybar.*(\[ERROR\]|parse|invalid)|markup|status_command/i);
    expect(existsSync("/tmp/clan-pwned-bar")).toBe(false);
  });

  it("a left click on a network's block focuses its workspace through clan-sessiond's Switch", async () => {
    const process = bar();
    await process.waitForLine((line) => line.includes('"instance":"club"'), "the first status line");
    process.click({ name: "clan-desktop", instance: "club", button: 1, x: 10, y: 5 });
    await waitUntil(async () => ((await ipc.getWorkspaces()).find((w) => w.focused)?.name === "3:club" ? true : undefined), "3:club to be focused");
    await process.waitForLine((line) => /"instance":"club","full_text":"[^"]*<b> club <\/b>/.test(line), "club to be shown focused", 1);
    // Entering the network starts its VM: the block's glyph follows the VM's state.
    await user.waitForNetwork("club", (status) => status.vmState === "running");
    await process.waitForLine((line) => /"instance":"club","full_text":"<span foreground='#b5462f'>●<\/span>/.test(line), "club's running glyph", 1);
  });

  it.skipIf(!hasBinary("wtype"))("the snippet's $mod+n s stops the focused network, through the real clanctl", async () => {
    await user.waitForNetwork("club", (status) => status.focused && status.vmState === "running");
    const type = (args: string[]) => execa("wtype", args, { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
    await type(["-M", "logo", "n", "-m", "logo"]);
    await type(["s"]);
    await user.waitForNetwork("club", (status) => status.vmState === "stopped");
  });

  it("middle and right clicks call Rebuild and Rollback(-1), whose refusals clan-sessiond logs and survives", async () => {
    const process = bar();
    await process.waitForLine((line) => line.includes('"instance":"family"'), "the first status line");
    process.click({ name: "clan-desktop", instance: "family", button: 2 });
    process.click({ name: "clan-desktop", instance: "family", button: 3 });
    process.click({ name: "clan-desktop", instance: "family", button: 4 });
    process.click({ name: "other", instance: "family", button: 1 });
    const log = () => user.sessiond.output();
    await waitUntil(() => (/Rollback family failed/.test(log()) && /Rebuild family failed/.test(log()) ? true : undefined), "both refusals");
    // These networks boot a fixed generation directory: clan-sessiond itself refuses to rebuild or roll back.
    expect(log()).toMatch(/bar client \d+: Rebuild family failed: network family boots the profile .*; rebuild needs a flake source/);
    expect(log()).toMatch(/bar client \d+: Rollback family failed: family has no generation before the current one/);
    expect(log()).toMatch(/bar client \d+: ignoring a click on a block that is not clan-desktop's \("other"\)/);
    expect(log()).not.toMatch(/scroll/);
    expect(process.process.exitCode).toBeNull();
  });

  it("keeps the bar socket from other users: its directory is 0700 even when the runtime dir is opened", async () => {
    const socketDir = join(sway.runtimeDir, "clan-sessiond");
    const socket = join(socketDir, "bar.sock");
    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    const connections = () => (user.sessiond.output().match(/bar client \d+: connected/g) ?? []).length;
    const before = connections();
    // The runtime dir is opened for the attack, so that only clan-sessiond's own directory stands in the way.
    await chmod(sway.runtimeDir, 0o755);
    try {
      // nobody plays another local user who wants the networks' status, or to click on them.
      const attempt = await execa(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "socat", "-t", "1", "-", `UNIX-CONNECT:${socket}`],
        { input: '{"format":"i3bar"}\n,{"name":"clan-desktop","instance":"club","button":3}\n', reject: false, timeout: 15_000 },
      );
      expect(attempt.exitCode).not.toBe(0);
      expect(attempt.stderr).toMatch(/Permission denied/);
      expect(attempt.stdout).toBe("");
    } finally {
      await chmod(sway.runtimeDir, 0o700);
    }
    expect(connections()).toBe(before);
    expect(user.sessiond.output()).not.toMatch(/Rollback club/);
  });

  it("shows 'clan-sessiond not running' while it is gone and the networks again when it is back", async () => {
    const process = bar("waybar", "club");
    await process.waitForLine((line) => line.includes("club"), "the first status line");
    await user.stopSessiond();
    const gone = await process.waitForLine((line) => line.includes("clan-sessiond not running"), "the not-running line");
    expect(JSON.parse(gone)).toMatchObject({ alt: "sessiond-missing", class: ["sessiond-missing", "urgent"] });
    await waitForPixels(SWAYBAR_REGION, FAMILY, false, "swaybar to stop drawing the networks");
    const from = process.lines.length;
    await user.startSessiond();
    await process.waitForLine((line) => JSON.parse(line).alt !== "sessiond-missing", "the networks to return", from);
    await waitForPixels(SWAYBAR_REGION, FAMILY, true, "swaybar to draw the networks again");
    expect(process.process.exitCode).toBeNull();
  });

  describe.skipIf(!hasBinary("waybar"))(`waybar's custom module${skipReason("waybar")}`, () => {
    let waybar: UserDaemon;

    beforeAll(async () => {
      const module = (network: string) => ({ exec: `'${join(clanctlDir, "clan-bar-relay")}' waybar ${network}`, "return-type": "json" });
      const waybarConfig = {
        layer: "top",
        position: "bottom",
        height: 30,
        "modules-left": ["custom/clan-family", "custom/clan-club"],
        "custom/clan-family": module("family"),
        "custom/clan-club": module("club"),
      };
      await writeFile(join(user.dir, "waybar.json"), JSON.stringify(waybarConfig), { mode: 0o644 });
      await writeFile(join(user.dir, "waybar.css"), "* { font-family: monospace; font-size: 13px; }\nwindow#waybar { background: #000000; }\n", { mode: 0o644 });
      waybar = user.spawn("waybar", ["-c", join(user.dir, "waybar.json"), "-s", join(user.dir, "waybar.css")], {
        WAYLAND_DISPLAY: sway.waylandDisplay,
        XDG_RUNTIME_DIR: sway.runtimeDir,
      });
    });

    afterAll(async () => {
      if (!waybar) return;
      // waybar 0.9.17 leaves its custom modules running when it exits (measured, on SIGINT and SIGTERM alike);
      // it starts each in a process group of its own, which is stopped here by that id.
      const modules = waybar.process.pid === undefined ? [] : await childPids(waybar.process.pid);
      for (const pid of modules) process.kill(-pid, "SIGTERM");
      await waybar.stop();
    });

    it("shows a module per network, each in its network's colour", async () => {
      try {
        await waitForPixels(WAYBAR_REGION, FAMILY, true, "waybar to draw the family module");
      } catch (error) {
        throw new Error(`${(error as Error).message}\nwaybar:\n${waybar.output()}`);
      }
      expect(await pixels(WAYBAR_REGION, CLUB)).toBeGreaterThan(100);
      expect(waybar.output()).not.toMatch(/custom\/clan.*(error|fail)/i);
    });
  });

  it.skipIf(!nodeGtkBuilt)("a left click on the trailing ☰ Manager block opens the manager window in sway", async () => {
    const process = bar();
    await process.waitForLine((line) => line.includes('"name":"clan-desktop-manager"'), "the manager block");
    process.click({ name: "clan-desktop-manager", instance: "open", button: 1, x: 1200, y: 5 });
    interface View {
      app_id?: string;
      pid?: number;
      nodes?: View[];
      floating_nodes?: View[];
    }
    const managers = (node: View): View[] => [
      ...(node.app_id === "org.clan.Desktop.Manager" ? [node] : []),
      ...[...(node.nodes ?? []), ...(node.floating_nodes ?? [])].flatMap(managers),
    ];
    const window = await waitUntil(
      async () => managers(JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-t", "get_tree", "-r"])).stdout) as View)[0],
      "clan-sessiond to open the manager window",
      60_000,
    );
    // Run as the sway user by clan-sessiond, detached: the test ends it.
    expect(window.pid).toBeGreaterThan(0);
    globalThis.process.kill(window.pid!, "SIGTERM");
  }, 90_000);
});

