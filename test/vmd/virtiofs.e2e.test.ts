import { chmod, chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// A generation's virtiofs shares: clan-vmd starts QEMU 7.2's virtiofsd for each and the guest mounts them by tag.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", VIRTIOFSD];
const RUNNING_AS_ROOT = process.geteuid?.() === 0;
/** An ordinary uid (it needs no /etc/passwd entry) that owns the shared directories when the test runs as root. */
const SHARE_OWNER = 54_323;

describe.skipIf(!needs.every(hasBinary))(`virtiofs shares ${skipReason(...needs)}`, () => {
  let stack: VmdStack;
  let root: string;

  beforeAll(async () => {
    stack = await startVmdStack({
      tmpPrefix: "clan-virtiofs-",
      prepare: async (dir) => {
        await mkdir(join(dir, "docs"));
        await mkdir(join(dir, "photos"));
        await writeFile(join(dir, "docs", "from-host.txt"), "hello from the host\n");
        await writeFile(join(dir, "photos", "cat.txt"), "a cat\n");
        if (RUNNING_AS_ROOT) {
          // A root clan-vmd runs virtiofsd as the share's owner, who must be able to reach it; photos, read-only and
          // root's (like the host's /nix/store), is served as the VM's own uid.
          await chmod(dir, 0o711);
          await chown(join(dir, "docs"), SHARE_OWNER, SHARE_OWNER);
        }
      },
    });
    root = stack.root;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const guest = async (script: string) => stack.api.guestExec("shares", ["/bin/sh", "-c", script], 30);

  it("the guest mounts a writable and a read-only share by tag; writes reach the host only through the first", async () => {
    const generation = await makeGeneration(join(root, "generation"), {
      generation: "shares-1",
      vm: {
        stateDiskMiB: 0,
        shares: [
          { tag: "docs", source: join(root, "docs") },
          { tag: "photos", source: join(root, "photos"), readOnly: true },
        ],
      },
    });
    const grants = [
      { path: join(root, "docs"), readWrite: true },
      { path: join(root, "photos"), readWrite: false },
    ];
    expect((await stack.api.start("shares", generation, { shareGrants: grants })).state).toBe("running");
    const mounted = await guest("mkdir -p /mnt/docs /mnt/photos && mount -t virtiofs docs /mnt/docs && mount -t virtiofs photos /mnt/photos && cat /mnt/docs/from-host.txt /mnt/photos/cat.txt");
    expect(mounted).toMatchObject({ exitCode: 0, stdout: "hello from the host\na cat\n" });
    expect((await guest("echo from the guest > /mnt/docs/from-guest.txt")).exitCode).toBe(0);
    expect(await readFile(join(root, "docs", "from-guest.txt"), "utf8")).toBe("from the guest\n");
    const refused = await guest("echo nope > /mnt/photos/nope.txt");
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/Read-only file system/);
  });

  const shareDaemons = async (share = "") => {
    const { stdout } = await execa("pgrep", ["-f", `source=${root}/${share}`], { reject: false });
    return stdout.split("\n").filter(Boolean).map(Number);
  };
  const uidOf = async (pid: number) => Number((await execa("ps", ["-o", "uid=", "-p", String(pid)])).stdout.trim());

  it("virtiofsd never runs as root: a root clan-vmd runs it as the share's owner, or as the VM's uid for a read-only share of root's", async () => {
    const [docs, photos] = [await shareDaemons("docs"), await shareDaemons("photos")];
    expect(docs.length).toBeGreaterThan(0);
    expect(photos.length).toBeGreaterThan(0);
    const qemu = (await stack.api.list()).find((status) => status.network === "shares")!.pid;
    for (const pid of docs) expect(await uidOf(pid)).toBe(RUNNING_AS_ROOT ? SHARE_OWNER : process.geteuid?.());
    for (const pid of photos) expect(await uidOf(pid)).toBe(await uidOf(qemu));
    expect(await uidOf(qemu)).not.toBe(0);
  });

  it("stopping the VM also ends its virtiofsd processes", async () => {
    expect((await shareDaemons()).length).toBeGreaterThan(0);
    await stack.api.stop("shares");
    expect(await waitUntil(async () => ((await shareDaemons()).length === 0 ? true : undefined), "virtiofsd to exit", 10_000)).toBe(true);
  });

  it.skipIf(!RUNNING_AS_ROOT)("a root clan-vmd refuses to share a writable directory that root owns", async () => {
    await mkdir(join(root, "roots"));
    const generation = await makeGeneration(join(root, "generation-roots"), {
      generation: "shares-2",
      vm: { stateDiskMiB: 0, shares: [{ tag: "roots", source: join(root, "roots") }] },
    });
    const grant = { shareGrants: [{ path: join(root, "roots"), readWrite: true }] };
    await expect(stack.api.start("rootshare", generation, grant)).rejects.toThrow(/owned by root and writable, and virtiofsd never runs as root/);
  });
});
