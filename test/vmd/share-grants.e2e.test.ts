import { execa } from "execa";
import { chmod, chown, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { totalmem } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clanctl } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The network's vm.json plays the attacker: it asks for the user's ~/.ssh, for writes where the user granted
// reads, for a symlink out of a granted directory, for more memory than the host allows a network. Real clan-vmd,
// real QEMU test guest, real virtiofsd.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", VIRTIOFSD];
const SECRET = "PRIVATE KEY of the test user";
const RUNNING_AS_ROOT = process.geteuid?.() === 0;
/** The shared folder's owner when the test runs as root: a root clan-vmd runs virtiofsd as the folder's owner. */
const SHARE_OWNER = 54_324;

describe.skipIf(!needs.every(hasBinary))(`share grants and the resource cap ${skipReason(...needs)}`, () => {
  let stack: VmdStack;
  let root: string;
  let home: string;
  let generations = 0;

  beforeAll(async () => {
    // A cap near 1 GiB whatever this host's memory: the 256 MiB test guest fits, 64 GiB does not.
    const hostMiB = Math.floor(totalmem() / (1024 * 1024));
    const percent = Math.min(100, Math.ceil((1024 * 100) / hostMiB));
    stack = await startVmdStack({
      tmpPrefix: "clan-grants-",
      extraArgs: ["--generation-memory-percent", String(percent)],
      prepare: async (dir) => {
        home = join(dir, "home");
        await mkdir(join(home, ".ssh"), { recursive: true });
        await writeFile(join(home, ".ssh", "id_ed25519"), `${SECRET}\n`);
        await mkdir(join(home, "Sync"));
        await writeFile(join(home, "Sync", "notes.txt"), "shared notes\n");
        // Planted in a granted directory: a link to the share root's outside, at the root of a share and inside one.
        await symlink(join(home, ".ssh"), join(home, "Sync", "keys"));
        await symlink(join(home, ".ssh", "id_ed25519"), join(home, "Sync", "key-file"));
        if (RUNNING_AS_ROOT) {
          await chmod(dir, 0o711);
          await chown(join(home, "Sync"), SHARE_OWNER, SHARE_OWNER);
          await chown(join(home, "Sync", "notes.txt"), SHARE_OWNER, SHARE_OWNER);
        }
      },
    });
    root = stack.root;
  });

  afterEach(async () => {
    await stack.api?.stop("grants").catch(() => undefined);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const generation = (vm: Record<string, unknown>) =>
    makeGeneration(join(root, `generation-${++generations}`), { generation: `grants-${generations}`, vm: { stateDiskMiB: 0, ...vm } });
  const guest = async (script: string) => stack.api.guestExec("grants", ["/bin/sh", "-c", script], 30);
  const virtiofsdRunning = async () => {
    // virtiofsd's socket path is a descriptor (/proc/self/fd/3/…): it is recognised by the directory it serves.
    const { stdout } = await execa("pgrep", ["-f", `virtiofsd --socket-path=\\S+ -o source=${home}/`], { reject: false });
    return stdout.trim() !== "";
  };
  const syncGrant = () => ({ path: join(home, "Sync"), readWrite: false });

  it("refuses a generation that shares the user's ~/.ssh, naming the share and the field to grant it; no virtiofsd starts", async () => {
    const attack = await generation({ shares: [{ tag: "ssh", source: join(home, ".ssh") }] });
    const refusal = stack.api.start("grants", attack, { shareGrants: [syncGrant()] });
    await expect(refusal).rejects.toThrow(
      `share "ssh" of ${join(home, ".ssh")} is not granted: to allow it, add {"path": "${join(home, ".ssh")}"} to networks.grants.grants.shares in config.json`,
    );
    await expect(refusal).rejects.toMatchObject({ code: "NotGranted" });
    expect(await virtiofsdRunning()).toBe(false);
    expect((await stack.api.list()).find((vm) => vm.network === "grants")?.state ?? "stopped").toBe("stopped");
    expect(await readdir(join(root, "run")).catch(() => [])).not.toContain("grants");
  });

  it("refuses every share when the caller grants nothing (an old client, a bare `clanctl vm start`)", async () => {
    const attack = await generation({ shares: [{ tag: "sync", source: join(home, "Sync"), readOnly: true }] });
    await expect(stack.api.start("grants", attack)).rejects.toThrow(/share "sync" of .* is not granted/);
    expect(await virtiofsdRunning()).toBe(false);
  });

  it("refuses a generation asking to write where the user granted reads", async () => {
    const attack = await generation({ shares: [{ tag: "sync", source: join(home, "Sync") }] });
    await expect(stack.api.start("grants", attack, { shareGrants: [syncGrant()] })).rejects.toThrow(
      `share "sync" asks to write to ${join(home, "Sync")}, but ${join(home, "Sync")} is granted read-only`,
    );
    expect(await virtiofsdRunning()).toBe(false);
  });

  it("refuses a share whose root is a symlink in a granted directory pointing outside it", async () => {
    const attack = await generation({ shares: [{ tag: "keys", source: join(home, "Sync", "keys"), readOnly: true }] });
    await expect(stack.api.start("grants", attack, { shareGrants: [syncGrant()] })).rejects.toThrow(
      `share "keys" of ${join(home, "Sync", "keys")} (which resolves to ${join(home, ".ssh")}) is not granted`,
    );
    expect(await virtiofsdRunning()).toBe(false);
  });

  it("a read-only grant cannot be written by the guest; symlinks inside the share resolve in the guest, not on the host", async () => {
    const granted = await generation({ shares: [{ tag: "sync", source: join(home, "Sync"), readOnly: true }] });
    expect((await stack.api.start("grants", granted, { shareGrants: [syncGrant()] })).state).toBe("running");
    expect(await guest("mkdir -p /mnt/sync && mount -t virtiofs sync /mnt/sync && cat /mnt/sync/notes.txt")).toMatchObject({
      exitCode: 0,
      stdout: "shared notes\n",
    });
    const write = await guest("echo owned >> /mnt/sync/notes.txt");
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect(await readFile(join(home, "Sync", "notes.txt"), "utf8")).toBe("shared notes\n");
    // virtiofsd hands the guest the link itself (readlink); the guest's kernel resolves it in the guest's tree,
    // where the host's ~/.ssh does not exist. Created there, the same path shows the guest's file, not the host's.
    expect(await guest("readlink /mnt/sync/key-file")).toMatchObject({ exitCode: 0, stdout: `${join(home, ".ssh", "id_ed25519")}\n` });
    const followed = await guest("cat /mnt/sync/key-file; ls /mnt/sync/keys/");
    expect(followed.exitCode).not.toBe(0);
    expect(followed.stdout).not.toContain(SECRET);
    const guestSide = await guest(`mkdir -p ${join(home, ".ssh")} && echo guest-side > ${join(home, ".ssh", "id_ed25519")} && cat /mnt/sync/key-file`);
    expect(guestSide).toMatchObject({ exitCode: 0, stdout: "guest-side\n" });
    // Nor does ".." climb out of the share: virtiofsd serves it from inside a sandbox rooted at the share.
    const climbed = await guest("ls -a /mnt/sync/.. /mnt/sync/../.. && cat /mnt/sync/../../.ssh/id_ed25519 /mnt/sync/../.ssh/id_ed25519");
    expect(climbed.stdout).not.toContain(SECRET);
  });

  it("clanctl vm start --share PATH[:rw] passes the user's grants: read-only unless ':rw'", async () => {
    const writable = await generation({ shares: [{ tag: "sync", source: join(home, "Sync") }] });
    const env = stack.env;
    const readOnly = await clanctl(["vm", "start", "grants", "--profile", writable, "--share", join(home, "Sync")], env);
    expect(readOnly.exitCode).not.toBe(0);
    expect(readOnly.all).toContain(`share "sync" asks to write to ${join(home, "Sync")}, but ${join(home, "Sync")} is granted read-only`);
    const readWrite = await clanctl(["vm", "start", "grants", "--profile", writable, "--share", `${join(home, "Sync")}:rw`], env);
    expect(readWrite.exitCode, readWrite.all).toBe(0);
    expect(readWrite.stdout).toContain("grants: running");
    expect(await virtiofsdRunning()).toBe(true);
  });

  it("refuses memory above the host-relative cap, naming the field", async () => {
    const greedy = await generation({ memoryMiB: 65536 });
    const refusal = stack.api.start("grants", greedy);
    await expect(refusal).rejects.toThrow(/vm\.json: field memoryMiB: the generation asks for 65536 MiB, more than a network may take by itself/);
    await expect(refusal).rejects.toMatchObject({ code: "OverLimit" });
    expect((await stack.api.list()).find((vm) => vm.network === "grants")?.state ?? "stopped").toBe("stopped");
  });
});
