import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLockedInputs, refusedInputs } from "../../../src/shared/flake-source/locked-inputs.js";
import { shownText } from "../../../src/shared/shown-text.js";

// flake.lock is the network's: each input is classified from the data alone, and text from it is shown escaped.
// (test/session/join-hostile.e2e.test.ts proves the same with real Nix and real clanctl.)

const NAR = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const REV = "0123456789abcdef0123456789abcdef01234567";
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function sourceWithLock(nodes: Record<string, unknown>): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "clan-lock-"));
  await writeFile(join(dir, "flake.lock"), JSON.stringify({ version: 7, root: "root", nodes: { root: { inputs: Object.fromEntries(Object.keys(nodes).map((k) => [k, k])) }, ...nodes } }));
  return dir;
}

describe("flake.lock inputs", () => {
  it("classifies ssh, local and unlocked inputs, and accepts locked https and github ones", async () => {
    const source = await sourceWithLock({
      good: { locked: { type: "git", url: "https://git.example.org/a", rev: REV, narHash: NAR } },
      hub: { locked: { type: "github", owner: "o", repo: "r", rev: REV, narHash: NAR } },
      ssh: { locked: { type: "git", url: "ssh://git@attacker.example/x", rev: REV, narHash: NAR } },
      scp: { locked: { type: "git", url: "git@attacker.example:x", rev: REV, narHash: NAR } },
      home: { locked: { type: "path", path: "/root/.ssh", narHash: NAR } },
      file: { locked: { type: "git", url: "file:///srv/x", rev: REV, narHash: NAR } },
      tarball: { locked: { type: "tarball", url: "file:///etc/x.tar", narHash: NAR } },
      loose: { locked: { type: "git", url: "https://git.example.org/b", rev: REV } },
      nolock: { original: { type: "git", url: "https://git.example.org/c" } },
      registry: { locked: { type: "indirect", id: "nixpkgs" } },
    });
    const { hasLockFile, inputs, originals, urls } = await readLockedInputs(source);
    expect(hasLockFile).toBe(true);
    // A build's restricted evaluation may fetch these URLs and no others; originals are what flake.nix declared.
    expect(urls).toEqual(["https://git.example.org/a", "ssh://git@attacker.example/x", "git@attacker.example:x", "file:///srv/x", "file:///etc/x.tar", "https://git.example.org/b"]);
    expect(originals).toEqual(new Map([["nolock", { type: "git", url: "https://git.example.org/c" }]]));
    const kinds = Object.fromEntries(inputs.map((input) => [input.path, input.kinds]));
    expect(kinds).toEqual({
      good: [],
      hub: [],
      ssh: ["ssh"],
      scp: ["ssh"],
      home: ["local"],
      file: ["local"],
      tarball: ["local"],
      loose: ["unlocked"],
      nolock: ["unlocked"],
      registry: ["unlocked"],
    });
    expect(refusedInputs(inputs, ["local", "unlocked"]).map((input) => input.path)).toEqual(["ssh", "scp"]);
  });

  it("names inputs of inputs by their path, and follows no cycle", async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-lock-"));
    const nodes = {
      root: { inputs: { a: "a" } },
      a: { inputs: { b: "b", back: ["a"] }, locked: { type: "github", owner: "o", repo: "a", rev: REV, narHash: NAR } },
      b: { inputs: { a: "a" }, locked: { type: "path", path: "/home/u", narHash: NAR } },
    };
    await writeFile(join(dir, "flake.lock"), JSON.stringify({ version: 7, root: "root", nodes }));
    const { inputs } = await readLockedInputs(dir);
    expect(inputs).toEqual([
      { path: "a", source: "github:o/a", kinds: [] },
      { path: "a/b", source: "path:/home/u", kinds: ["local"] },
    ]);
  });

  it("a source without flake.lock says so; one whose flake.lock is a symlink out of it is refused", async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-lock-"));
    expect(await readLockedInputs(dir)).toEqual({ hasLockFile: false, inputs: [], originals: new Map(), urls: [] });
    await symlink("/etc/passwd", join(dir, "flake.lock"));
    await expect(readLockedInputs(dir)).rejects.toThrow("flake.lock is not a regular file");
  });
});

describe("shownText", () => {
  it("escapes ANSI escapes, bidi overrides, zero-width and line separators, and backslashes", () => {
    expect(shownText("evil\u001b[2J\u202egnp.exe\u200b\u2028\\")).toBe("evil\\u{001B}[2J\\u{202E}gnp.exe\\u{200B}\\u{2028}\\\\");
  });
  it("keeps printable text from other scripts and cuts long text", () => {
    expect(shownText("Zürich")).toBe("Zürich");
    expect(shownText("a".repeat(300), 10)).toBe(`${"a".repeat(10)}…`);
  });
});
