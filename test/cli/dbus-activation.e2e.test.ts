import { execa } from "execa";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH, VMD_BUS_NAME, VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH } from "../../src/shared/dbus-names.js";
import { clanctl } from "../helpers/daemons.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";

// Without the NixOS module and without systemd: `clanctl session-files` writes the D-Bus activation files, and a
// real dbus-daemon then starts each daemon on the first call to its name, as a user's session bus would.

let root: string;
let bus: SessionBus;
const activatedPids: number[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-activation-"));
  const dirs = { XDG_DATA_HOME: join(root, "data"), XDG_RUNTIME_DIR: join(root, "run"), XDG_STATE_HOME: join(root, "state"), XDG_CONFIG_HOME: join(root, "config"), HOME: root };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true, mode: 0o700 });
  const written = await clanctl(["session-files", "--data-dir", dirs.XDG_DATA_HOME], {});
  expect(written.exitCode, written.all).toBe(0);
  // The bus reads its service directories when it starts: the files are there first, as after a login.
  bus = await startSessionBus(undefined, { PATH: process.env.PATH ?? "/usr/bin:/bin", ...dirs });
});

afterAll(async () => {
  for (const pid of activatedPids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Exited on its own.
    }
  }
  await bus?.stop();
  await rm(root, { recursive: true, force: true });
});

async function gdbusCall(dest: string, path: string, method: string, ...args: string[]): Promise<string> {
  const result = await execa("gdbus", ["call", "--address", bus.address, "--dest", dest, "--object-path", path, "--method", method, ...args], { reject: false, timeout: 60_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

async function ownerPid(name: string): Promise<number> {
  const reply = await gdbusCall("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID", name);
  return Number(/\(uint32 (\d+),\)/.exec(reply)?.[1]);
}

describe("D-Bus activation from clanctl session-files", () => {
  it("the first call to clan-vmd's name starts clan-vmd", async () => {
    const reply = await gdbusCall(VMD_BUS_NAME, VMD_MANAGER_PATH, `${VMD_MANAGER_INTERFACE}.List`);
    expect(reply).toBe("(@aa{sv} [],)");
    const pid = await ownerPid(VMD_BUS_NAME);
    activatedPids.push(pid);
    const { stdout } = await execa("ps", ["-o", "args=", "-p", String(pid)]);
    expect(stdout).toContain("bin/clan-vmd.js");
  });

  it("the first call to clan-sessiond's name starts clan-sessiond", async () => {
    const reply = await gdbusCall(SESSION_BUS_NAME, SESSION_MANAGER_PATH, `${SESSION_MANAGER_INTERFACE}.ListNetworks`);
    expect(reply).toBe("(@aa{sv} [],)");
    const pid = await ownerPid(SESSION_BUS_NAME);
    activatedPids.push(pid);
    const { stdout } = await execa("ps", ["-o", "args=", "-p", String(pid)]);
    expect(stdout).toContain("bin/clan-sessiond.js");
  });
});
