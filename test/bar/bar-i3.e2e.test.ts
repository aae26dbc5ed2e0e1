import { appendFile, chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { configSnippet } from "../../src/sway/config-snippet.js";
import { shellCommand, statusCommand } from "../../src/sway/config-file-syntax.js";
import { spawnBar, type BarProcess } from "../helpers/bar-process.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The status bar on real i3bar under i3 in Xvfb: clanctl bar directly, and through i3blocks 1.4 in persist
// mode. i3 runs as root here, so root's session bus serves both. Clicks go to a clanctl bar the test runs.

const FAMILY = "#2e7dbf";
const CLUB = "#b5462f";
/** The snippet's bar (position top) and the i3blocks bar (position bottom), on the 1280x800 Xvfb screen. */
const I3BAR_REGION = { x: 0, y: 0, width: 1280, height: 24 };
const I3BLOCKS_REGION = { x: 0, y: 776, width: 1280, height: 24 };

const needs = ["i3", "i3bar", "Xvfb", "import", "convert", "qemu-system-x86_64", "dbus-daemon", "nix-env"];

describe.skipIf(!needs.every(hasBinary))(`the status bar on i3 ${skipReason(...needs)}`, () => {
  let i3: I3UnderXvfb;
  let stack: SessionStack;
  let ipc: IpcClient;
  let root: string;
  let generationOne: string;
  const bars: BarProcess[] = [];

  const pixels = async (region: typeof I3BAR_REGION, colour: string) =>
    countPixels(await x11Screenshot(i3.display, join(root, "shot.png")), region, colour);
  const bar = () => {
    const process = spawnBar([], { DBUS_SESSION_BUS_ADDRESS: stack.env.DBUS_SESSION_BUS_ADDRESS! });
    bars.push(process);
    return process;
  };

  beforeAll(async () => {
    root = await mkdtemp("/tmp/clan bar i3 ✓ ");
    await chmod(root, 0o755);
    // family's generations form a Nix profile (family-N-link, family → the current one), so that it can roll back.
    const profiles = join(root, "profiles");
    await mkdir(profiles);
    generationOne = await makeGeneration(join(root, "generations", "family-1"), { generation: "family-1" });
    const generationTwo = await makeGeneration(join(root, "generations", "family-2"), { generation: "family-2" });
    await symlink(generationOne, join(profiles, "family-1-link"));
    await symlink(generationTwo, join(profiles, "family-2-link"));
    await symlink("family-2-link", join(profiles, "family"));
    const config: ConfigInput = {
      networks: {
        family: { workspaces: ["2:family"], colour: FAMILY, source: { profile: join(profiles, "family") } },
        club: {
          label: "Chess <club> & co",
          workspaces: ["3:club"],
          colour: CLUB,
          source: { profile: await makeGeneration(join(root, "generations", "club-1"), { generation: "club-1" }) },
        },
      },
      switchDebounceMs: 100,
    };
    i3 = await startI3UnderXvfb({ config: "set $mod Mod4\n" });
    stack = await startSessionStack({ config, daemonEnv: { I3SOCK: i3.socketPath, DISPLAY: i3.display } });

    await symlink(join(REPO, "bin", "clanctl.js"), join(root, "clanctl.js"));
    // i3 started before the bus: the commands carry its address, as a session's environment would.
    const clanctl = ["env", `DBUS_SESSION_BUS_ADDRESS=${stack.env.DBUS_SESSION_BUS_ADDRESS}`, process.execPath, join(root, "clanctl.js")];
    const snippet = configSnippet({
      dialect: "i3",
      networks: Object.entries(config.networks).map(([name, n]) => ({ name, label: n.label ?? name, workspaces: n.workspaces })),
      clanctl,
      withBar: true,
      configFile: stack.configFile,
    });
    // i3blocks 1.4 as docs/bar.md wires it: one persistent block per network.
    const i3blocksConfig = join(root, "i3blocks.conf");
    await writeFile(
      i3blocksConfig,
      `[clan-desktop]\ncommand=${shellCommand([...clanctl, "bar", "--format", "i3blocks", "--network", "family"])}\ninterval=persist\nformat=json\n`,
    );
    const i3blocksBar = `bar {\n    position bottom\n    status_command ${statusCommand(["i3blocks", "-c", i3blocksConfig], "i3")}\n    font pango:monospace 8\n}\n`;
    // i3's include splits its path at spaces, so the snippet goes next to i3's own config.
    const snippetFile = join(dirname(i3.configPath), "clan-desktop.conf");
    await writeFile(snippetFile, snippet + i3blocksBar);
    await appendFile(i3.configPath, `include ${snippetFile}\n`);
    // A reload registers new bars without starting them; a restart starts them.
    await i3.restart("in-place");
    ipc = await IpcClient.connect({ socketPath: i3.socketPath });
  });

  afterAll(async () => {
    for (const process of bars) await process.stop();
    ipc?.close();
    await stack?.stop();
    await i3?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("i3bar runs clanctl bar from the snippet and draws every network in its colour, without errors", async () => {
    await waitUntil(async () => ((await pixels(I3BAR_REGION, FAMILY)) > 100 ? true : undefined), "i3bar to draw the family network", 20_000);
    expect(await pixels(I3BAR_REGION, CLUB)).toBeGreaterThan(100);
    expect(i3.log()).not.toMatch(/ERROR|Could not parse|markup/i);
  });

  it("i3blocks 1.4 in persist mode shows the network's block, in its colour", async () => {
    await waitUntil(async () => ((await pixels(I3BLOCKS_REGION, FAMILY)) > 100 ? true : undefined), "i3blocks' bar to draw the family block", 20_000);
    expect(await pixels(I3BLOCKS_REGION, CLUB)).toBe(0);
  });

  it("a left click switches to the network's workspace", async () => {
    const process = bar();
    await process.waitForLine((line) => line.includes('"instance":"family"'), "the first status line");
    process.click({ name: "clan-desktop", instance: "family", button: 1 });
    await waitUntil(async () => ((await ipc.getWorkspaces()).find((w) => w.focused)?.name === "2:family" ? true : undefined), "2:family to be focused");
    await stack.waitForNetwork("family", (status) => status.vmState === "running" && status.generation.endsWith("family-2"));
  });

  it("a right click rolls the network back to its previous generation and boots it; a middle click asks for a rebuild", async () => {
    const process = bar();
    await process.waitForLine((line) => line.includes('"instance":"family"'), "the first status line");
    process.click({ name: "clan-desktop", instance: "family", button: 3 });
    await stack.waitForNetwork("family", (status) => status.vmState === "running" && status.generation === generationOne, 60_000);
    expect((await stack.session.generations("family")).find((g) => g.current)?.number).toBe(1);
    // A network that boots a profile has no flake to rebuild from: clan-sessiond refuses, the bar says so.
    process.click({ name: "clan-desktop", instance: "family", button: 2 });
    await waitUntil(() => (/Rebuild family failed/.test(process.stderr()) ? true : undefined), "the refusal");
    expect(process.stderr()).toMatch(/Rebuild family failed: network family boots the profile .*; rebuild needs a flake source/);
    expect(process.process.exitCode).toBeNull();
  });
});
