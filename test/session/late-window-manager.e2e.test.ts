import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { createSwayRuntimeDir, startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The shipped sway and i3 snippets import the environment and start clan-sessiond on separate exec lines, so
// clan-sessiond may start before SWAYSOCK reaches it, or before sway listens at all. Here it starts first,
// with neither SWAYSOCK nor a sway, and must attach to the sway that appears later in its runtime dir.

const needs = ["sway", "qemu-system-x86_64", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary))(`clan-sessiond started before sway ${skipReason(...needs)}`, () => {
  let runtimeDir: string;
  let sway: HeadlessSway | undefined;
  let stack: SessionStack;
  let ipc: IpcClient | undefined;

  beforeAll(async () => {
    runtimeDir = await createSwayRuntimeDir();
    const profile = await makeGeneration(join(runtimeDir, "generations", "family"), { generation: "family-1", vm: { stateDiskMiB: 0 } });
    stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile } } }, switchDebounceMs: 100 },
      // Empty: what the test runner has must not reach clan-sessiond, as before `import-environment` ran.
      daemonEnv: { XDG_RUNTIME_DIR: runtimeDir, SWAYSOCK: "", I3SOCK: "", DISPLAY: "", WAYLAND_DISPLAY: "" },
    });
  });

  afterAll(async () => {
    ipc?.close();
    await stack?.stop();
    await sway?.stop();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("says in clanctl status that it has no window manager while there is none", async () => {
    const status = await clanctl(["status"], stack.env);
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toMatch(/^no window manager: /m);
    expect(stack.sessiond.output()).toMatch(/no window manager yet: .*only D-Bus \(WorkspaceFocused\) reports focus/);
  });

  it("attaches to sway once it starts, and entering a network's workspace then starts its VM", async () => {
    sway = await startHeadlessSway({ runtimeDir });
    await waitUntil(() => (stack.sessiond.output().match(/attached to sway/) ? true : undefined), "clan-sessiond to attach to sway", 15_000);
    const current = sway;
    ipc = await IpcClient.connect({ discover: () => current.discoverSocket() });
    await ipc.runCommand("workspace 2:family");
    const family = await stack.waitForNetwork("family", (s) => s.vmState === "running", 60_000);
    expect(family.focused).toBe(true);
    const status = await clanctl(["status"], stack.env);
    expect(status.stdout).not.toMatch(/no window manager/);
    expect(status.stdout).toMatch(/\*family\s+"2:family"\s+running/);
    expect(JSON.parse((await clanctl(["status", "--json"], stack.env)).stdout)).toMatchObject({ backend: "sway" });
  });
});
