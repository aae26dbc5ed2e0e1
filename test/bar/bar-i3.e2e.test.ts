import { appendFile, chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { configSnippet } from "../../src/sway/config-snippet.js";
import { shellCommand, statusCommand } from "../../src/sway/config-file-syntax.js";
import { BAR_RELAY, spawnBar, type BarProcess } from "../helpers/bar-process.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, x11Screenshot } from "../helpers/screenshot.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The status bar on real i3bar under i3 in Xvfb: clan-bar-relay directly, and through i3blocks 1.4 in persist
// mode, both reaching the stack's clan-sessiond on its bar socket. Clicks go to a relay the test runs; a client
// of the socket that sends garbage is refused or ignored, and clan-sessiond serves the bars on.

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
    const process = spawnBar("i3bar", undefined, { CLAN_BAR_SOCKET: stack.env.CLAN_BAR_SOCKET! });
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
    await symlink(BAR_RELAY, join(root, "clan-bar-relay"));
    // i3 did not start with the stack's environment: the bar's commands carry where its socket is.
    const barRelay = ["env", `CLAN_BAR_SOCKET=${stack.env.CLAN_BAR_SOCKET}`, join(root, "clan-bar-relay")];
    // i3 started before the bus: the commands carry its address, as a session's environment would.
    const clanctl = ["env", `DBUS_SESSION_BUS_ADDRESS=${stack.env.DBUS_SESSION_BUS_ADDRESS}`, process.execPath, join(root, "clanctl.js")];
    const snippet = configSnippet({
      dialect: "i3",
      networks: Object.entries(config.networks).map(([name, n]) => ({ name, label: n.label ?? name, workspaces: n.workspaces })),
      clanctl,
      barRelay,
      withBar: true,
      configFile: stack.configFile,
    });
    // i3blocks 1.4 as docs/bar.md wires it: one persistent block per network.
    const i3blocksConfig = join(root, "i3blocks.conf");
    await writeFile(
      i3blocksConfig,
      `[clan-desktop]\ncommand=${shellCommand([...barRelay, "i3blocks", "family"])}\ninterval=persist\nformat=json\n`,
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

  it("i3bar runs clan-bar-relay from the snippet and draws every network in its colour, without errors", async () => {
    await waitUntil(async () => ((await pixels(I3BAR_REGION, FAMILY)) > 100 ? true : undefined), "i3bar to draw the family network", 20_000);
    expect(await pixels(I3BAR_REGION, CLUB)).toBeGreaterThan(100);
    expect(i3.log()).not.toMatch(/ERROR|Could not parse|markup/i);
  });

  it("i3blocks 1.4 in persist mode shows the network's block, in its colour", async () => {
    await waitUntil(async () => ((await pixels(I3BLOCKS_REGION, FAMILY)) > 100 ? true : undefined), "i3blocks' bar to draw the family block", 20_000);
    expect(await pixels(I3BLOCKS_REGION, CLUB)).toBe(0);
  });

  it("refuses a bad hello with an error line, skips bad clicks and huge lines, and serves the bars on", async () => {
    const socket = stack.env.CLAN_BAR_SOCKET!;
    const refusals = await Promise.all([
      talkToBarSocket(socket, "lemonbar please\n"),
      talkToBarSocket(socket, '{"format":"lemonbar"}\n'),
      talkToBarSocket(socket, '{"format":"i3bar","network":"../etc"}\n'),
      talkToBarSocket(socket, `${"x".repeat(200_000)}\n`),
    ]);
    expect(refusals[0]).toMatch(/^clan-sessiond: the hello line is not JSON/);
    expect(refusals[1]).toMatch(/^clan-sessiond: the hello line is not \{"format":"i3bar\|waybar\|i3blocks".*format: Invalid option/);
    expect(refusals[2]).toMatch(/^clan-sessiond: .*network: a network name is/);
    expect(refusals[3]).toMatch(/^clan-sessiond: the hello line has more than \d+ characters/);
    // A valid hello, then a malformed click, a huge line and a click on someone else's block: all logged, none acted on.
    const hostile = talkToBarSocket(
      socket,
      `{"format":"i3bar"}\n,{"name":"clan-desktop","instance":"family","button":\n,${"y".repeat(300_000)}\n,{"name":"other","instance":"family","button":1}\n`,
      (output) => output.includes('"instance":"family"'),
    );
    expect(await hostile).toMatch(/^,\[\{"name":"clan-desktop","instance":"club"/);
    const log = () => stack.sessiond.output();
    await waitUntil(() => (/ignoring a click on a block that is not clan-desktop's/.test(log()) ? true : undefined), "the other block's click to be logged");
    expect(log()).toMatch(/bar client \d+: ignoring click input: not JSON/);
    expect(log()).toMatch(/bar client \d+: ignoring a click line of \d+ characters/);
    // clan-sessiond still serves a bar: its first line comes, and its clicks act (the next tests).
    const process = bar();
    await process.waitForLine((line) => line.includes('"instance":"family"'), "a bar's first status line after the garbage");
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
    const log = () => stack.sessiond.output();
    await waitUntil(() => (/Rebuild family failed/.test(log()) ? true : undefined), "the refusal");
    expect(log()).toMatch(/bar client \d+: Rebuild family failed: network family boots the profile .*; rebuild needs a flake source/);
    expect(process.process.exitCode).toBeNull();
  });
});

/**
 * Connects to the bar socket, sends `input`, and resolves with what clan-sessiond wrote: everything until it
 * closed the connection, or until all of `input` is sent and `enough` is satisfied (then this side closes).
 */
function talkToBarSocket(socketPath: string, input: string, enough?: (output: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    let sent = false;
    // Closed only once all of the input is in the socket's buffer, so that clan-sessiond reads every line of it.
    const closeIfEnough = () => {
      if (sent && enough?.(output)) socket.destroy();
    };
    const socket = connect(socketPath, () =>
      socket.write(input, () => {
        sent = true;
        closeIfEnough();
      }),
    );
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      output += chunk;
      closeIfEnough();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(output));
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer from the bar socket; so far: ${output.slice(0, 200)}`)));
  });
}
