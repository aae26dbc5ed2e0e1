import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WmDialect } from "../../src/sway/command-syntax.js";
import { configSnippet, modeName, type SnippetNetwork } from "../../src/sway/config-snippet.js";
import { waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";

// The snippet of `clanctl sway-config` / `i3-config` in a real sway and i3: the config loads without errors,
// and real keystrokes (wtype on sway's virtual keyboard, xdotool through XTEST on Xvfb) run the bindings. clanctl
// is replaced by a recorder that writes down its arguments, so that each key's exact command line is seen;
// network names are hostile, and must become exactly one workspace and run nothing.

const PWNED = "/tmp/clan-pwned-snippet";
const NETWORKS: SnippetNetwork[] = [
  { name: "family", label: `Fam "ily"; exec touch ${PWNED}`, workspaces: [`2:fam "x"; exec touch ${PWNED}, [b]`] },
  { name: "club", label: "club", workspaces: [`3:a\\b 'q' ✓`] },
  { name: "money", label: "money", workspaces: ["5:$money"] },
  { name: "tricky", label: "tricky", workspaces: ['4:x\\"y'] },
];

interface Keyboard {
  /** Presses $mod (Mod4) with `key`, then `then` alone. */
  chord(key: string, then: string): Promise<void>;
}

async function writeSnippet(dir: string, dialect: WmDialect, recorder: string): Promise<string> {
  const file = join(dir, `${dialect}.conf`);
  const snippet = configSnippet({ dialect, networks: NETWORKS, clanctl: [process.execPath, recorder], barRelay: ["clan-bar-relay"], withBar: false, configFile: "/test/config.json" });
  await writeFile(file, snippet, { mode: 0o644 });
  return file;
}

function describeSnippetOn(dialect: WmDialect, needs: string[], start: (snippetFile: string) => Promise<{
  keyboard: Keyboard;
  focusedWorkspace(): Promise<string | undefined>;
  bindingMode(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}>) {
  describe.skipIf(!needs.every(hasBinary))(`the ${dialect} config snippet ${skipReason(...needs)}`, () => {
    let dir: string;
    let calls: string;
    let wm: Awaited<ReturnType<typeof start>>;
    const recorded = async () => (await readFile(calls, "utf8")).split("\n").filter(Boolean);

    beforeAll(async () => {
      dir = await mkdtemp(join("/tmp", `clan-snippet-${dialect}-`));
      await chmod(dir, 0o755);
      calls = join(dir, "calls");
      await writeFile(calls, "");
      // The window manager may run as another user (sway does): the recorder only appends to a file anyone may write.
      await chmod(calls, 0o666);
      // Behind a space and a non-ASCII letter, so that the exec commands' quoting is exercised.
      await mkdir(join(dir, "bin ✓"), { mode: 0o755 });
      const recorder = join(dir, "bin ✓", "clanctl-recorder.mjs");
      await writeFile(recorder, `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(calls)}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`, { mode: 0o644 });
      wm = await start(await writeSnippet(dir, dialect, recorder));
    });

    afterAll(async () => {
      await wm?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("loads without a config error", () => {
      expect(wm.log()).not.toMatch(/error on line|config.*error|ERROR: CONFIG/i);
    });

    it("$mod+n enters the mode named after its keys; each action key runs clanctl with its subcommand and leaves", async () => {
      for (const [key, subcommand] of [["r", "rebuild"], ["p", "rollback"], ["b", "backup"], ["s", "stop"]] as const) {
        const before = (await recorded()).length;
        await wm.keyboard.chord("n", key);
        await waitUntil(async () => ((await recorded()).length > before ? true : undefined), `the ${key} key to run clanctl`, 10_000);
        expect((await recorded()).slice(before)).toEqual([JSON.stringify([subcommand])]);
        expect(await wm.bindingMode()).toBe("default");
      }
    });

    it("a digit focuses exactly the network's hostile workspace name, and nothing in it runs", async () => {
      await wm.keyboard.chord("n", "1");
      await waitUntil(async () => ((await wm.focusedWorkspace()) === NETWORKS[0]!.workspaces[0] ? true : undefined), "family's workspace", 10_000);
      await wm.keyboard.chord("n", "2");
      await waitUntil(async () => ((await wm.focusedWorkspace()) === NETWORKS[1]!.workspaces[0] ? true : undefined), "club's workspace", 10_000);
      // money's workspace cannot be written into a config ('$'): it has no key, and 3 does nothing.
      await wm.keyboard.chord("n", "4");
      await waitUntil(async () => ((await wm.focusedWorkspace()) === NETWORKS[3]!.workspaces[0] ? true : undefined), "tricky's workspace", 10_000);
      expect(existsSync(PWNED)).toBe(false);
      expect(await wm.bindingMode()).toBe("default");
    });

    it("names the mode after its keys", async () => {
      expect(modeName(NETWORKS.length)).toBe("clan: r rebuild, p previous generation, b back up, s stop, 1-4 network, Esc leave");
    });
  });
}

describeSnippetOn("sway", ["sway", "wtype", "swaymsg"], async (snippetFile) => {
  const sway: HeadlessSway = await startHeadlessSway({ config: `set $mod Mod4\ninclude ${snippetFile}\n` });
  const swaymsg = async (type: string) => JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-r", "-t", type])).stdout) as unknown;
  const type = (args: string[]) => execa("wtype", args, { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
  return {
    keyboard: {
      async chord(key, then) {
        await type(["-M", "logo", key, "-m", "logo"]);
        await type([then]);
      },
    },
    focusedWorkspace: async () => ((await swaymsg("get_workspaces")) as { name: string; focused: boolean }[]).find((w) => w.focused)?.name,
    bindingMode: async () => ((await swaymsg("get_binding_state")) as { name: string }).name,
    log: () => sway.log(),
    stop: () => sway.stop(),
  };
});

describeSnippetOn("i3", ["i3", "Xvfb", "xdotool", "i3-msg"], async (snippetFile) => {
  const i3: I3UnderXvfb = await startI3UnderXvfb({ config: `set $mod Mod4\ninclude ${snippetFile}\n` });
  const i3msg = async (type: string) => JSON.parse((await execa("i3-msg", ["-s", i3.socketPath, "-t", type])).stdout) as unknown;
  const xdotool = (args: string[]) => execa("xdotool", args, { env: { DISPLAY: i3.display } });
  return {
    keyboard: {
      async chord(key, then) {
        await xdotool(["key", `super+${key}`]);
        await xdotool(["key", then]);
      },
    },
    focusedWorkspace: async () => ((await i3msg("get_workspaces")) as { name: string; focused: boolean }[]).find((w) => w.focused)?.name,
    bindingMode: async () => ((await i3msg("get_binding_state")) as { name: string }).name,
    log: () => i3.log(),
    stop: () => i3.stop(),
  };
});
