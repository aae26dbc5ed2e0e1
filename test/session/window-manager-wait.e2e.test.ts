import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../../src/shared/dbus-names.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeStaleSocket } from "../helpers/stale-socket.js";
import { createSwayRuntimeDir, startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { waitUntilQuiet } from "../helpers/wake-ups.js";

// clan-sessiond with --backend auto (its default, and the generated user unit's) and no window manager, as in a
// GNOME session: it must sleep until a sway or i3 socket appears — no polling — and then attach at once.
//
// How quiet is measured (test/helpers/wake-ups.ts): the context switches of all its threads, from /proc. Node
// itself is not quiet at first: V8's memory reducer runs a few garbage collections about 8 s apart after the
// start, then stops for good. So the test waits, for up to a minute, for a 10 s stretch with at most
// QUIET_TOLERANCE switches. The discovery this replaced listed the runtime directories every 3 s, about ten
// switches each time (the main thread and a thread-pool thread per readdir), so it never had such a stretch.
// The tolerance is for a sample taken while a thread is still on its way into sleep: its switch is counted in the
// next sample.

const QUIET = { stretchMs: 10_000, tolerance: 2, withinMs: 60_000 };
/** From the window manager listening to clan-sessiond having attached to it. */
const ATTACH_WITHIN_MS = 5_000;
const NO_WINDOW_MANAGER_ENV = { SWAYSOCK: "", I3SOCK: "", DISPLAY: "", WAYLAND_DISPLAY: "" };

async function reportedBackend(stack: SessionStack): Promise<string> {
  const status = await clanctl(["status", "--json"], stack.env);
  expect(status.exitCode, status.all).toBe(0);
  return (JSON.parse(status.stdout) as { backend: string }).backend;
}

async function attachedWithin(stack: SessionStack, kind: string): Promise<void> {
  await waitUntil(async () => ((await reportedBackend(stack)) === kind ? true : undefined), `clan-sessiond to attach to ${kind}`, ATTACH_WITHIN_MS);
}

function sessiondPid(stack: SessionStack): number {
  const pid = stack.sessiond.process.pid;
  if (pid === undefined) throw new Error("clan-sessiond has no pid");
  return pid;
}

const swayNeeds = ["sway", "dbus-daemon"];

describe.skipIf(!swayNeeds.every(hasBinary))(`clan-sessiond waiting for sway ${skipReason(...swayNeeds)}`, () => {
  let runtimeDir: string;
  let uid: number;
  let stack: SessionStack;
  let sway: HeadlessSway | undefined;

  beforeAll(async () => {
    runtimeDir = await createSwayRuntimeDir();
    uid = (await stat(runtimeDir)).uid;
    // Left by a sway and an i3 that were killed. The pid in the sway socket's name is one that runs (this test's),
    // so discovery does not skip the file as a dead process's: only an attempt to connect shows it is stale.
    await makeStaleSocket(join(runtimeDir, `sway-ipc.${uid}.${process.pid}.sock`));
    await mkdir(join(runtimeDir, "i3"));
    await makeStaleSocket(join(runtimeDir, "i3", `ipc-socket.${process.pid}`));
    stack = await startSessionStack({ config: { networks: {} }, daemonEnv: { XDG_RUNTIME_DIR: runtimeDir, ...NO_WINDOW_MANAGER_ENV } });
  });

  afterAll(async () => {
    await stack?.stop();
    await sway?.stop();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("makes no wake-ups while no window manager runs, with stale sockets of dead ones in place", async () => {
    expect(await reportedBackend(stack)).toBe("none");
    expect(stack.sessiond.output()).toContain(`waiting for a window manager's socket in ${runtimeDir}, ${join(runtimeDir, "i3")}`);
    await waitUntilQuiet(sessiondPid(stack), QUIET);
  });

  it("tries a stale socket that appears a few times, then sleeps again", async () => {
    const stale = join(runtimeDir, `sway-ipc.${uid}.1.sock`);
    await makeStaleSocket(stale);
    await stack.sessiond.waitForOutput(new RegExp(`sway-ipc\\.${uid}\\.1\\.sock appeared, but no sway could be reached: .*waiting for the next`));
    await waitUntilQuiet(sessiondPid(stack), QUIET);
    expect(await reportedBackend(stack)).toBe("none");
  });

  it("attaches to sway as soon as it listens", async () => {
    sway = await startHeadlessSway({ runtimeDir });
    await attachedWithin(stack, "sway");
    expect(stack.sessiond.output()).toMatch(/attached to sway/);
    const status = await clanctl(["status"], stack.env);
    expect(status.stdout).not.toMatch(/no window manager/);
  });
});

const i3Needs = ["i3", "Xvfb", "dbus-daemon"];

describe.skipIf(!i3Needs.every(hasBinary))(`clan-sessiond waiting for i3 ${skipReason(...i3Needs)}`, () => {
  let runtimeDir: string;
  let stack: SessionStack;
  let i3: I3UnderXvfb | undefined;

  beforeAll(async () => {
    // No i3 directory yet: i3 makes XDG_RUNTIME_DIR/i3 when it starts, so clan-sessiond watches its parent.
    runtimeDir = await mkdtemp(join(tmpdir(), "clan-wmwait-i3-"));
    stack = await startSessionStack({ config: { networks: {} }, daemonEnv: { XDG_RUNTIME_DIR: runtimeDir, ...NO_WINDOW_MANAGER_ENV } });
  });

  afterAll(async () => {
    await stack?.stop();
    await i3?.stop();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("makes no wake-ups while no window manager runs", async () => {
    await waitUntilQuiet(sessiondPid(stack), QUIET);
  });

  it("attaches to i3, whose socket directory did not exist, as soon as it listens", async () => {
    i3 = await startI3UnderXvfb({ runtimeDir });
    await attachedWithin(stack, "i3");
    expect(i3.socketPath).toBe(join(runtimeDir, "i3", `ipc-socket.${i3.pid}`));
  });
});

const gnomeNeeds = ["sway", "dbus-daemon", "dbus-send"];

describe.skipIf(!gnomeNeeds.every(hasBinary))(`clan-sessiond when the GNOME extension reports focus ${skipReason(...gnomeNeeds)}`, () => {
  let runtimeDir: string;
  let stack: SessionStack;
  let sway: HeadlessSway | undefined;

  beforeAll(async () => {
    runtimeDir = await createSwayRuntimeDir();
    stack = await startSessionStack({ config: { networks: {} }, daemonEnv: { XDG_RUNTIME_DIR: runtimeDir, ...NO_WINDOW_MANAGER_ENV } });
  });

  afterAll(async () => {
    await stack?.stop();
    await sway?.stop();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("stops waiting for sway or i3: a sway started later is not attached", async () => {
    // The call the extension makes (src/gnome-extension/shell/controller.ts) when a GNOME workspace is activated.
    const call = await execa(
      "dbus-send",
      ["--session", "--print-reply", `--dest=${SESSION_BUS_NAME}`, SESSION_MANAGER_PATH, `${SESSION_MANAGER_INTERFACE}.WorkspaceFocused`, "string:1"],
      { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: stack.env.DBUS_SESSION_BUS_ADDRESS }, reject: false, all: true },
    );
    expect(call.exitCode, call.all).toBe(0);
    await stack.sessiond.waitForOutput(/focus is reported over D-Bus \(the GNOME extension\): no longer waiting for sway or i3/);
    sway = await startHeadlessSway({ runtimeDir });
    // As long as the sway test above gives clan-sessiond to attach when it still waits.
    await sleep(ATTACH_WITHIN_MS);
    expect(await reportedBackend(stack)).toBe("none");
    expect(stack.sessiond.output()).not.toMatch(/attached to sway/);
  });
});
