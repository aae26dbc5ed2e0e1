import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClanError } from "../../src/shared/errors.js";
import { generationClosure, HOLDER_READY_LINE, isStoreShare, prepareStoreView, storeRoots, storeViewHolderArguments, storeViewVirtiofsdArguments, VIEW_MOUNTPOINT } from "../../src/vmd/store-view.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { buildStoreGenerations, type StoreGenerations } from "../helpers/store-generations.js";

// The closure a VM's store share serves, computed by the real nix-store from generations built by the real Nix,
// and the view laid out from it, mounted in a user and mount namespace as virtiofsd's would be.

const needs = ["nix-build", "nix-store", "unshare", "nsenter"];
const isRoot = process.getuid?.() === 0;
const run = `${Date.now().toString(36)}-${process.pid}`;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-store-view-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the store share", () => {
  it("is the read-only share of exactly /nix/store; any other spelling or a writable one is an ordinary share", () => {
    expect(isStoreShare({ source: "/nix/store", readOnly: true })).toBe(true);
    expect(isStoreShare({ source: "/nix/store", readOnly: false })).toBe(false);
    expect(isStoreShare({ source: "/nix/store/", readOnly: true })).toBe(false);
    expect(isStoreShare({ source: "/srv/nix/store", readOnly: true })).toBe(false);
  });

  it("a generation outside the store that links to nothing in it has an empty closure", async () => {
    const dir = join(root, "plain");
    await mkdir(dir);
    await writeFile(join(dir, "kernel"), "");
    await symlink("/nonexistent/initrd", join(dir, "initrd"));
    await symlink("/nix/store/00000000000000000000000000000000-missing", join(dir, "toplevel"));
    expect(await storeRoots(dir)).toEqual([]);
    expect(await generationClosure(dir)).toEqual([]);
  });

  it("the template names each path once, the fstab escapes blanks and binds under the namespace's mountpoint, and a symlink is copied instead of mounted", async () => {
    const store = join(root, "fake store");
    await mkdir(join(store, "dir-path"), { recursive: true });
    await writeFile(join(store, "file-path"), "content");
    await symlink("/elsewhere", join(store, "link-path"));
    const view = join(root, "view with blank");
    const fstab = prepareStoreView(["dir-path", "file-path", "link-path"].map((name) => join(store, name)), view);
    expect(fstab).toBe(`${view}.fstab`);
    expect((await readFile(fstab, "utf8")).split("\n")).toEqual([
      `${root}/fake\\040store/dir-path ${VIEW_MOUNTPOINT}/dir-path none bind,ro 0 0`,
      `${root}/fake\\040store/file-path ${VIEW_MOUNTPOINT}/file-path none bind,ro 0 0`,
      "",
    ]);
    const { stdout } = await execa("ls", ["-l", view]);
    expect(stdout).toMatch(/^d.* dir-path$/m);
    expect(stdout).toMatch(/^-.* file-path$/m);
    expect(stdout).toMatch(/^l.* link-path -> \/elsewhere$/m);
  });
});

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`closures from the real Nix store ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let built: StoreGenerations;

  beforeAll(async () => {
    built = await buildStoreGenerations(run);
  }, 120_000);

  it("a generation in the store serves exactly its closure: its library, note and link, not the other network's or the secret", async () => {
    const closure = await generationClosure(built.generationA);
    expect([...closure].sort()).toEqual([built.generationA, built.libraryA, built.noteA, built.linkA].sort());
  });

  it("a generation outside the store serves the closures of the store paths its links lead into", async () => {
    const dir = join(root, "hand-made");
    await mkdir(dir);
    // kernel leads through the link path to a file inside library A; toplevel names generation B itself.
    await symlink(built.linkA, join(dir, "kernel"));
    await symlink(built.generationB, join(dir, "toplevel"));
    await writeFile(join(dir, "kernel-params"), "console=ttyS0\n");
    expect(await storeRoots(dir)).toEqual([built.libraryA, built.generationB].sort());
    const closure = await generationClosure(dir);
    expect(closure).toContain(built.libraryA);
    expect(closure).toContain(built.generationB);
    expect(closure).not.toContain(built.generationA);
    expect(closure).not.toContain(built.linkA);
    expect(closure).not.toContain(built.secret);
  });

  it("a directory in the store that Nix does not know is refused with Nix's reason", async () => {
    const unknown = `/nix/store/${"0".repeat(32)}-clan-store-test-unregistered-${run}`;
    await mkdir(unknown);
    try {
      const error = await generationClosure(unknown).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClanError);
      expect((error as ClanError).code).toBe("InvalidGeneration");
      expect((error as ClanError).message).toMatch(new RegExp(`^cannot compute the store closure of ${unknown}: error: path '${unknown}' is not valid`));
    } finally {
      await rm(unknown, { recursive: true, force: true });
    }
  });

  it("without nix-store to ask, a start fails naming what is missing rather than serving an empty store", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(generationClosure(built.generationA)).rejects.toThrow(/^cannot compute the store closure of .*: nix-store is not on clan-vmd's PATH$/);
    } finally {
      process.env.PATH = path;
    }
  });

  it("mounted once by a holder, the view lists only the closure to a process that joins it, reads through, and refuses writes", async () => {
    const view = join(root, "view-a");
    const fstab = prepareStoreView(await generationClosure(built.generationA), view);
    const holder = execa("unshare", storeViewHolderArguments(fstab), { cwd: view, stdin: "pipe", reject: false });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (chunk: Buffer) => chunk.toString().startsWith(HOLDER_READY_LINE) && resolve());
        void holder.then((ended) => reject(new Error(`the holder exited: ${ended.stderr}`)));
      });
      // The template and its fstab are no longer needed once the holder has mounted the view.
      await rm(view, { recursive: true });
      // Stands in for virtiofsd: reports what the source it is handed looks like from inside the namespace.
      const probe = join(root, "probe.sh");
      await writeFile(
        probe,
        [
          "#!/bin/sh",
          'source=${3#source=}; source=${source%,cache=auto}',
          'ls "$source"',
          `cat "$source/${basename(built.noteA)}" "$source/${basename(built.linkA)}"`,
          `touch "$source/${basename(built.libraryA)}/new" 2>&1 || true`,
          'mkdir "$source/new" 2>&1 || true',
        ].join("\n"),
      );
      await chmod(probe, 0o755);
      const result = await execa("nsenter", storeViewVirtiofsdArguments(holder.pid!, probe, join(root, "unused.sock")), { reject: false });
      expect(result.stderr).toBe("");
      const lines = result.stdout.split("\n");
      const closureNames = [built.generationA, built.libraryA, built.noteA, built.linkA].map((path) => basename(path)).sort();
      expect(lines.slice(0, 4)).toEqual(closureNames);
      expect(lines.slice(4, 6)).toEqual(["note of a", "library of a"]);
      expect(lines.slice(6)).toEqual([expect.stringMatching(/Read-only file system/), expect.stringMatching(/Read-only file system/)]);
      // The mounts live in the holder's namespace only.
      expect(await execa("findmnt", ["--noheadings", VIEW_MOUNTPOINT], { reject: false }).then((r) => r.stdout)).toBe("");
    } finally {
      holder.kill("SIGKILL");
      await holder;
    }
  });
});
