import { basename } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { buildStoreGenerations, type StoreGenerations } from "../helpers/store-generations.js";

// The guest of network A, booted by the real clan-vmd and QEMU from a generation built by the real Nix, mounts
// its store share and goes looking for what is not its own: network B's generation and a secret of the host's,
// both in the host's /nix/store. Neither may exist in the guest's /nix/store.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", "nix-build", "nix-store", VIRTIOFSD];
const isRoot = process.getuid?.() === 0;
const run = `${Date.now().toString(36)}-${process.pid}`;

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`a VM's store is its own closure ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let stack: VmdStack;
  let built: StoreGenerations;

  beforeAll(async () => {
    built = await buildStoreGenerations(run);
    stack = await startVmdStack({ tmpPrefix: "clan-store-e2e-" });
    expect((await stack.api.start("storea", built.generationA)).state).toBe("running");
    const mounted = await guest("mkdir -p /nix/store && mount -t virtiofs nix-store /nix/store");
    expect(mounted).toMatchObject({ exitCode: 0, stderr: "" });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const guest = async (script: string) => stack.api.guestExec("storea", ["/bin/sh", "-c", script], 30);
  const name = (path: string) => basename(path);

  it("lists exactly the generation's closure in the guest's /nix/store", async () => {
    const listing = await guest("ls -a /nix/store");
    expect(listing.exitCode).toBe(0);
    const expected = [built.generationA, built.libraryA, built.noteA, built.linkA].map(name).sort();
    expect(listing.stdout.split("\n").filter((line) => line !== "" && line !== "." && line !== "..").sort()).toEqual(expected);
  });

  it("reads its own paths: a directory, a file, and a link that resolves inside the guest's store", async () => {
    const read = await guest(
      `cat /nix/store/${name(built.generationA)}/kernel-params /nix/store/${name(built.libraryA)}/library.txt /nix/store/${name(built.noteA)} /nix/store/${name(built.linkA)}`,
    );
    expect(read).toMatchObject({ exitCode: 0, stdout: "console=ttyS0 panic=-1 quiet clan.generation=store-a\nlibrary of a\nnote of a\nlibrary of a\n" });
  });

  it("network B's generation and the host's secret do not exist, by name or by a path through its own", async () => {
    for (const path of [built.generationB, built.secret]) {
      const probe = await guest(`ls -d /nix/store/${name(path)}`);
      expect(probe.exitCode).not.toBe(0);
      expect(probe.stderr).toMatch(/No such file or directory/);
    }
    const traversal = await guest(`cat /nix/store/${name(built.libraryA)}/../${name(built.secret)}/secret.txt`);
    expect(traversal.exitCode).not.toBe(0);
    expect(traversal.stderr).toMatch(/No such file or directory/);
    expect((await guest("grep -rl 'the host keeps this' /nix/store/")).stdout).toBe("");
  });

  it("writes are refused by the host, into the store's root and into a path of the closure", async () => {
    for (const target of ["/nix/store/planted", `/nix/store/${name(built.libraryA)}/planted`]) {
      const write = await guest(`echo planted > ${target}`);
      expect(write.exitCode).not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
    }
  });
});
