import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { createSwayRuntimeDir, startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { waitUntilQuiet } from "../helpers/wake-ups.js";

// clan-sessiond attached to sway, and sway exits: its IPC links try again a few times (an i3 restart in place is
// back within milliseconds), then sleep until a window manager's socket appears in the runtime directory — no
// timer while the window manager is gone. Measured as in window-manager-wait.e2e.test.ts: the context switches of
// all clan-sessiond's threads. Before this, each of its two links (commands, events) tried every 2 s forever, so
// clan-sessiond never had a quiet 10 s stretch. Then a new sway starts, and both links come back to it.

const QUIET = { stretchMs: 10_000, tolerance: 2, withinMs: 60_000 };
const NO_WINDOW_MANAGER_ENV = { SWAYSOCK: "", I3SOCK: "", DISPLAY: "", WAYLAND_DISPLAY: "" };
const needs = ["sway", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary))(`clan-sessiond after its sway exits ${skipReason(...needs)}`, () => {
  let runtimeDir: string;
  let first: HeadlessSway;
  let second: HeadlessSway | undefined;
  let stack: SessionStack;

  beforeAll(async () => {
    runtimeDir = await createSwayRuntimeDir();
    first = await startHeadlessSway({ runtimeDir });
    stack = await startSessionStack({
      // A profile that does not exist: focusing the network's workspace is what is looked at, not its VM.
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: join(runtimeDir, "no-such-profile") } } } },
      daemonEnv: { XDG_RUNTIME_DIR: runtimeDir, ...NO_WINDOW_MANAGER_ENV },
    });
    expect(stack.sessiond.output()).toMatch(/backend sway\)/);
  });

  afterAll(async () => {
    await stack?.stop();
    await second?.stop();
    // Last: it removes the runtime directory both sways use.
    await first?.stop();
  });

  it("makes no wake-ups while sway is gone", async () => {
    // Killed, not stop()ped: stop() would remove the runtime directory, where the next sway is to appear.
    process.kill(first.pid, "SIGTERM");
    await waitUntil(async () => ((await stat(first.socketPath).catch(() => undefined)) === undefined ? true : undefined), "sway to remove its socket", 10_000);
    const pid = stack.sessiond.process.pid;
    if (pid === undefined) throw new Error("clan-sessiond has no pid");
    await waitUntilQuiet(pid, QUIET);
  });

  it("comes back to a new sway on both links: its events and clan-sessiond's commands", async () => {
    second = await startHeadlessSway({ runtimeDir });
    await stack.sessiond.waitForOutput(new RegExp(`reconnected to sway at ${second.socketPath.replace(/[.]/g, "\\.")}`), 10_000);
    expect(second.socketPath).not.toBe(first.socketPath);
    // clan-sessiond focuses the workspace over its command link; the focus comes back to it over its event link.
    await stack.session.switchTo("family");
    await stack.waitForNetwork("family", (status) => status.focused, 10_000);
  });
});
