import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { createNetworkFlake, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// The keybinding of `clanctl i3-config`, pressed for real (xdotool through XTEST), runs the real clanctl, which
// rebuilds the focused network through clan-sessiond and the real Nix. i3 runs as root here, as the Nix store
// of these machines needs; sway's bindings are the same snippet (test/sway/config-snippet.e2e.test.ts).

const needs = ["i3", "Xvfb", "xdotool", "nix", "git", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const run = Date.now().toString(36);

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`the rebuild keybinding ${skipReason(...needs)}`, () => {
  let flake: NetworkFlake;
  let stack: SessionStack;
  let i3: I3UnderXvfb;
  let ipc: IpcClient;
  const savedEnv = { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS, CLAN_DESKTOP_CONFIG: process.env.CLAN_DESKTOP_CONFIG };

  beforeAll(async () => {
    flake = await createNetworkFlake();
    await flake.commit(`kb-a-${run}`);
    const stateHome = `${flake.dir}-state`;
    // i3 first: clan-sessiond follows it; the bindings' commands inherit i3's environment, so the bus goes in later.
    i3 = await startI3UnderXvfb();
    stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { flake: flake.url } } } },
      daemonEnv: { NIX_CONFIG: TEST_NIX_CONFIG, XDG_STATE_HOME: stateHome, I3SOCK: i3.socketPath, DISPLAY: i3.display },
    });
    const snippet = await clanctl(["i3-config"], stack.env);
    expect(snippet.exitCode, snippet.all).toBe(0);
    const snippetFile = join(stateHome, "clan-desktop.i3.conf");
    await mkdir(stateHome, { recursive: true });
    await writeFile(snippetFile, snippet.stdout);
    await i3.stop();
    process.env.DBUS_SESSION_BUS_ADDRESS = stack.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.CLAN_DESKTOP_CONFIG = stack.env.CLAN_DESKTOP_CONFIG;
    i3 = await startI3UnderXvfb({ config: `set $mod Mod4\ninclude ${snippetFile}\n` });
    await stack.restartSessiond({ I3SOCK: i3.socketPath, DISPLAY: i3.display });
    ipc = await IpcClient.connect({ socketPath: i3.socketPath });
    expect((await clanctl(["rebuild", "family"], stack.env)).exitCode).toBe(0);
  });

  afterAll(async () => {
    // Test files share one process: the environment i3 needed must not reach the next file's daemons.
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    ipc?.close();
    await stack?.stop();
    await i3?.stop();
  });

  it("$mod+n r on the network's workspace builds and boots its next generation", async () => {
    await ipc.runCommand("workspace 2:family");
    await stack.waitForNetwork("family", (s) => s.focused && s.vmState === "running");
    await flake.commit(`kb-b-${run}`);
    const xdotool = (...args: string[]) => execa("xdotool", args, { env: { DISPLAY: i3.display } });
    await xdotool("key", "super+n");
    await xdotool("key", "r");
    const current = await waitUntil(
      async () => (await stack.session.generations("family")).find((g) => g.current && g.number === 2),
      "generation 2 to become current",
      90_000,
    );
    await stack.waitForNetwork("family", (s) => s.vmState === "running" && s.generation === current.path, 60_000);
    expect(await stack.vms.consoleTail("family", 4096)).toContain(`kb-b-${run} ready`);
  });
});
