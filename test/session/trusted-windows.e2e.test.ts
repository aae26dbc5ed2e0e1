import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WmDialect } from "../../src/sway/command-syntax.js";
import { setTitleFormat } from "../../src/sway/commands.js";
import { configSnippet, modeName } from "../../src/sway/config-snippet.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot, x11Screenshot } from "../helpers/screenshot.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { startHeadlessSway } from "../helpers/sway.js";
import { connectVirtualPointer } from "../helpers/virtual-pointer.js";
import { makeGeneration } from "../helpers/test-guest.js";

// A network's viewer on real sway (with Debian's stock /etc/sway/config plus `include` of `clanctl sway-config`'s
// snippet, as a user sets it up) and real i3, with the real daemons and a real VM shown by remote-viewer:
// - the trusted [label] prefix is drawn in the network's colour, as markup, not as raw `<span …>` text;
// - a network window that goes fullscreen (which would hide the frame and so the prefix) is taken out of it,
//   while a host window may still go fullscreen;
// - with the pointer over the guest's screen, the window manager's keys still reach the window manager.

const COLOUR = "#2e7dbf";
const STOCK_SWAY_CONFIG = "/etc/sway/config";

interface WmHarness {
  ipc: IpcClient;
  daemonEnv: Record<string, string>;
  screenshot(file: string): Promise<string>;
  /** Puts the pointer at a point of the screen (the WM's focus follows it). */
  pointTo(x: number, y: number): Promise<void>;
  /** Whether the seat has a pointer that can enter a window. */
  hasPointer(): Promise<boolean>;
  /** Presses keys in order, e.g. [["super", "n"], ["Escape"]]. */
  press(chords: string[][]): Promise<void>;
  /** The name of the WM's current binding mode. */
  bindingMode(): Promise<string>;
  /** Opens a host window that no network owns; resolves to its container. */
  openHostWindow(): Promise<TreeNode>;
  log(): string;
  stop(): Promise<void>;
}

async function writeSnippet(dir: string, dialect: WmDialect): Promise<string> {
  const file = join(dir, `clan-desktop-${dialect}.conf`);
  const networks = [{ name: "family", label: "family", workspaces: ["2:family"] }];
  await writeFile(file, configSnippet({ dialect, networks, clanctl: ["true"], barRelay: ["clan-bar-relay"], withBar: false, configFile: "/test/config.json" }), { mode: 0o644 });
  return file;
}

async function startSway(dir: string): Promise<WmHarness> {
  const snippet = await writeSnippet(dir, "sway");
  // As docs/bar.md tells a user: copy the stock config, then include the snippet at its end.
  const stock = await readFile(STOCK_SWAY_CONFIG, "utf8");
  const sway = await startHeadlessSway({ baseConfig: stock, config: `\ninclude ${snippet}\n` });
  const ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
  const env = { WAYLAND_DISPLAY: sway.waylandDisplay };
  const pointer = await connectVirtualPointer(sway.waylandDisplay);
  return {
    ipc,
    daemonEnv: { SWAYSOCK: sway.socketPath, WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
    screenshot: (file) => swayScreenshot(sway.waylandDisplay, file),
    bindingMode: async () => (JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-r", "-t", "get_binding_state"])).stdout) as { name: string }).name,
    async pointTo(x, y) {
      const output = (await ipc.getOutputs())[0]!;
      await pointer.moveTo(x, y, output.rect.width, output.rect.height);
    },
    // wl_seat capability bit 1: pointer.
    hasPointer: async () =>
      (JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-r", "-t", "get_seats"])).stdout) as { capabilities: number }[]).some(
        (seat) => (seat.capabilities & 1) !== 0,
      ),
    async press(chords) {
      for (const chord of chords) {
        const key = chord[chord.length - 1]!;
        const modifiers = chord.slice(0, -1).map((modifier) => (modifier === "super" ? "logo" : modifier));
        await execa("wtype", [...modifiers.flatMap((m) => ["-M", m]), "-k", key, ...modifiers.flatMap((m) => ["-m", m])], { env });
      }
    },
    async openHostWindow() {
      const child = sway.spawnClient("remote-viewer");
      return waitUntil(async () => [...walkTree(await ipc.getTree())].find((n) => n.pid === child.pid), "the host window", 20_000);
    },
    log: () => sway.log(),
    async stop() {
      pointer.close();
      ipc.close();
      await sway.stop();
    },
  };
}

async function startI3(dir: string): Promise<WmHarness> {
  const snippet = await writeSnippet(dir, "i3");
  const i3 = await startI3UnderXvfb({ config: `set $mod Mod4\nbindsym $mod+1 workspace number 1\ninclude ${snippet}\n` });
  const ipc = await IpcClient.connect({ socketPath: i3.socketPath });
  const xdotool = (args: string[]) => execa("xdotool", args, { env: { DISPLAY: i3.display } });
  let windows = 0;
  return {
    ipc,
    daemonEnv: { I3SOCK: i3.socketPath, DISPLAY: i3.display },
    screenshot: (file) => x11Screenshot(i3.display, file),
    bindingMode: async () => (JSON.parse((await execa("i3-msg", ["-s", i3.socketPath, "-t", "get_binding_state"])).stdout) as { name: string }).name,
    pointTo: async (x, y) => void (await xdotool(["mousemove", String(x), String(y)])),
    hasPointer: async () => true,
    async press(chords) {
      for (const chord of chords) await xdotool(["key", chord.join("+")]);
    },
    async openHostWindow() {
      const instance = `clan-host-${process.pid}-${++windows}`;
      i3.spawnClient("xmessage", ["-name", instance, "a host window"]);
      return waitUntil(
        async () => [...walkTree(await ipc.getTree())].find((n) => n.window_properties?.instance === instance),
        "the host window",
        20_000,
      );
    },
    log: () => i3.log(),
    async stop() {
      ipc.close();
      await i3.stop();
    },
  };
}

const KINDS = [
  { dialect: "sway", start: startSway, needs: ["sway", "swaymsg", "grim", "wtype", "convert"], stockConfig: STOCK_SWAY_CONFIG },
  { dialect: "i3", start: startI3, needs: ["i3", "i3-msg", "Xvfb", "xdotool", "xmessage", "import", "convert"], stockConfig: undefined },
] as const;

for (const kind of KINDS) {
  const needs = [...kind.needs, "qemu-system-x86_64", "dbus-daemon", "remote-viewer"];
  const missingConfig = kind.stockConfig !== undefined && !existsSync(kind.stockConfig) ? ` [skipped: no ${kind.stockConfig}]` : "";
  describe.skipIf(!needs.every(hasBinary) || missingConfig !== "")(`a network's viewer on ${kind.dialect} ${skipReason(...needs)}${missingConfig}`, () => {
    let dir: string;
    let wm: WmHarness;
    let stack: SessionStack;

    const viewer = async (): Promise<TreeNode | undefined> =>
      [...walkTree(await wm.ipc.getTree())].find((node) => node.marks.includes("clan:family"));
    const focusedWorkspace = async () => (await wm.ipc.getWorkspaces()).find((w) => w.focused)?.name;

    beforeAll(async () => {
      dir = await mkdtemp(join("/tmp", `clan-trusted-${kind.dialect}-`));
      await chmod(dir, 0o755);
      wm = await kind.start(dir);
      stack = await startSessionStack({
        config: {
          networks: {
            family: {
              workspaces: ["2:family"],
              colour: COLOUR,
              source: { profile: await makeGeneration(join(dir, "generations"), { generation: "family-1", vm: { display: "spice" } }) },
            },
          },
          switchDebounceMs: 100,
        },
        daemonEnv: wm.daemonEnv,
      });
      await wm.ipc.runCommand("workspace 2:family");
      await stack.waitForNetwork("family", (s) => s.vmState === "running" && s.focused);
      await waitUntil(viewer, "the viewer window, claimed and marked", 60_000);
    }, 180_000);

    afterAll(async () => {
      await stack?.stop();
      await wm?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** The viewer's title bar, from the WM's own geometry: i3's rect includes it, sway's starts below it. */
    const titleBar = async () => {
      const node = await waitUntil(
        async () => {
          const found = await viewer();
          return ((found?.["deco_rect"] as { height: number } | undefined)?.height ?? 0) > 0 ? found : undefined;
        },
        "the viewer's title bar",
        10_000,
      );
      const height = (node["deco_rect"] as { height: number }).height;
      return { x: node.rect.x, y: kind.dialect === "sway" ? node.rect.y - height : node.rect.y, width: node.rect.width, height };
    };

    it("draws the [label] prefix in the network's colour: Pango markup, not raw <span> text", async () => {
      expect(wm.log()).not.toMatch(/Error on line/i);
      const bar = await titleBar();
      const shot = await wm.screenshot(join(stack.root, `${kind.dialect}-prefix.png`));
      // Raw markup would be drawn in the theme's text colours only: the network's colour exists only if the span
      // was parsed. Its run starts at the bar's left edge (raw text would begin with "<span …").
      const coloured = await countPixels(shot, bar, COLOUR);
      expect(coloured, wm.log()).toBeGreaterThan(300);
      expect(await countPixels(shot, { ...bar, width: 12 }, COLOUR)).toBeGreaterThan(0);
      // The coloured run is " [family] " in the bar's monospace font, far narrower than the bar's width.
      expect(coloured).toBeLessThan(bar.height * 200);
    });

    if (kind.dialect === "sway") it("would show raw markup without the snippet's pango: font (the stock config's own font)", async () => {
      // What a stock config without the snippet's font line does: the same pixels lose the network's colour. sway
      // redraws a title for a new title_format, not for a new font: set clan-sessiond's format again to redraw it.
      const node = (await viewer())!;
      const format = setTitleFormat({ conId: node.id }, { label: "family", background: COLOUR, foreground: "#ffffff" }, "sway");
      await wm.ipc.runCommand(`font monospace 10; ${format}`);
      try {
        const shot = await wm.screenshot(join(stack.root, "sway-no-pango.png"));
        expect(await countPixels(shot, await titleBar(), COLOUR)).toBe(0);
      } finally {
        await wm.ipc.runCommand(`font pango:monospace 10; ${format}`);
      }
      const shot = await wm.screenshot(join(stack.root, "sway-pango-again.png"));
      expect(await countPixels(shot, await titleBar(), COLOUR)).toBeGreaterThan(300);
    });

    if (kind.dialect === "i3") it("keeps the prefix in the title_format i3 reports", async () => {
      expect((await viewer())!.title_format).toBe(`<span background='${COLOUR}' foreground='#ffffff'> [family] </span> %title`);
    });

    it("the window manager's keys reach it with the pointer over the guest's screen", async () => {
      // Without a pointer nothing enters the viewer and spice-gtk never grabs: the test would prove nothing.
      expect(await wm.hasPointer()).toBe(true);
      await wm.ipc.runCommand("mode default; workspace 2:family");
      const node = (await viewer())!;
      await wm.pointTo(node.rect.x + Math.floor(node.rect.width / 2), node.rect.y + Math.floor(node.rect.height / 2));
      // Give spice-gtk the pointer-enter on which it would grab the keyboard.
      await sleep(1000);
      expect((await viewer())!.focused).toBe(true);
      await wm.press([["super", "n"]]);
      await waitUntil(async () => ((await wm.bindingMode()) === modeName(1) ? true : undefined), "the clan mode", 10_000);
      await wm.press([["Escape"], ["super", "1"]]);
      await waitUntil(async () => ((await focusedWorkspace()) === "1" ? true : undefined), "workspace 1", 10_000);
    });

    it("takes a network window out of fullscreen, whoever asks, and its prefix stays visible", async () => {
      await wm.ipc.runCommand("mode default; workspace 2:family");
      const node = (await viewer())!;
      const refusals = () => stack.sessiond.output().split(`refused fullscreen for network window ${node.id}`).length - 1;
      await wm.ipc.runCommand(`[con_id=${node.id}] fullscreen enable`);
      await waitUntil(() => (refusals() === 1 ? true : undefined), "the refusal", 10_000);
      await waitUntil(async () => ((await viewer())!.fullscreen_mode === 0 ? true : undefined), "the viewer to leave fullscreen", 10_000);
      if (kind.dialect === "i3") {
        // remote-viewer's own F11 asks for fullscreen as an X client does (_NET_WM_STATE). On sway, remote-viewer
        // ignores F11 from wtype: test/sway/fullscreen-refusal.e2e.test.ts has a Wayland client ask instead.
        await wm.pointTo(node.rect.x + 50, node.rect.y + 50);
        await wm.press([["F11"]]);
        await waitUntil(() => (refusals() === 2 ? true : undefined), "the client's own request to be refused", 10_000);
        await waitUntil(async () => ((await viewer())!.fullscreen_mode === 0 ? true : undefined), "the viewer to leave fullscreen again", 10_000);
      }
      // The frame comes back with the WM's next frame: look until it is drawn.
      await waitUntil(
        async () => {
          const shot = await wm.screenshot(join(stack.root, `${kind.dialect}-after-fullscreen.png`));
          return (await countPixels(shot, await titleBar(), COLOUR)) > 300 ? true : undefined;
        },
        "the prefix drawn again",
        10_000,
      );
      if (kind.dialect === "i3") expect((await viewer())!.title_format).toContain("[family]");
    });
    it("lets a host window go fullscreen", async () => {
      await wm.ipc.runCommand("workspace 1");
      const host = await wm.openHostWindow();
      await wm.ipc.runCommand(`[con_id=${host.id}] fullscreen enable`);
      // clan-sessiond answers a network window's fullscreen within milliseconds (the tests above): give it time.
      await sleep(1500);
      const after = [...walkTree(await wm.ipc.getTree())].find((n) => n.id === host.id);
      expect(after?.fullscreen_mode).toBe(1);
    });
  });
}
