import { chmod, chown, lstat, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REPO, startDaemon } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";

// Without XDG_RUNTIME_DIR, clan-vmd keeps its VMs' control sockets in $TMPDIR/clan-vmd-<uid>, a name in a directory
// every user may write. These tests play another local user who got there first — with a directory of their own,
// a symbolic link to one, or a directory left open — and check that the real clan-vmd refuses to start, saying
// why and what to do, instead of putting its sockets where that user can reach them. TMPDIR points at a sticky,
// world-writable directory of the test's own, shaped like /tmp, so no other test's files are touched.

const uid = process.getuid?.() ?? 0;
const isRoot = uid === 0;

describe.skipIf(!hasBinary("dbus-daemon"))(`clan-vmd's runtime directory without XDG_RUNTIME_DIR ${skipReason("dbus-daemon")}`, () => {
  let root: string;
  let sharedTmp: string;
  let fallback: string;
  let bus: SessionBus;
  const env = () => {
    const { XDG_RUNTIME_DIR: _unused, ...rest } = process.env;
    return { ...rest, TMPDIR: sharedTmp, DBUS_SESSION_BUS_ADDRESS: bus.address };
  };
  const runVmd = () =>
    execa("node", [`${REPO}/bin/clan-vmd.js`, "--state-dir", join(root, "state"), "--accel", "tcg"], { env: env(), extendEnv: false, reject: false, timeout: 20_000 });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "clan-runtime-holes-"));
    bus = await startSessionBus();
  });
  afterAll(async () => {
    await bus?.stop();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    sharedTmp = join(root, `tmp-${Math.random().toString(36).slice(2)}`);
    await mkdir(sharedTmp);
    await chmod(sharedTmp, 0o1777);
    fallback = join(sharedTmp, `clan-vmd-${uid}`);
  });

  it("creates the directory itself, private to the user, and serves", async () => {
    const vmd = startDaemon("clan-vmd", ["--state-dir", join(root, "state"), "--accel", "tcg"], { TMPDIR: sharedTmp, DBUS_SESSION_BUS_ADDRESS: bus.address, XDG_RUNTIME_DIR: "" });
    try {
      await vmd.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
      const info = await lstat(fallback);
      expect(info.isDirectory()).toBe(true);
      expect(info.uid).toBe(uid);
      expect(info.mode & 0o777).toBe(0o700);
    } finally {
      await vmd.stop();
    }
  });

  it.skipIf(!isRoot)("refuses a directory another user created first", async () => {
    await mkdir(fallback, { mode: 0o700 });
    await chown(fallback, 65534, 65534);
    const result = await runVmd();
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`refusing the runtime directory ${fallback}: it belongs to uid 65534, not to you (uid ${uid})`);
    expect(result.stderr).toContain("set XDG_RUNTIME_DIR");
    expect(result.stderr).not.toContain("serving");
  });

  it("refuses a symbolic link planted in its place, even to a private directory of the user's", async () => {
    const elsewhere = join(root, "elsewhere");
    await mkdir(elsewhere, { mode: 0o700, recursive: true });
    await symlink(elsewhere, fallback);
    const result = await runVmd();
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`refusing the runtime directory ${fallback}: it is a symbolic link (to ${elsewhere})`);
    expect((await lstat(fallback)).isSymbolicLink()).toBe(true);
  });

  it("refuses a directory of the user's that others may enter", async () => {
    await mkdir(fallback);
    await chmod(fallback, 0o755);
    const result = await runVmd();
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`refusing the runtime directory ${fallback}: other users may enter it (mode 0755)`);
  });
});
