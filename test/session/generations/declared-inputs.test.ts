import { describe, expect, it } from "vitest";
import { unlockedDeclaredInputs } from "../../../src/session/generations/declared-inputs.js";
import type { LockedInputs } from "../../../src/shared/flake-source/locked-inputs.js";

// What flake.nix declares against what flake.lock locks: an input Nix would lock afresh while building (and so
// fetch, with its own inputs) is unlocked, and is classified by where it points.
// (test/session/build-check.e2e.test.ts proves the same with real Nix and the real clan-sessiond.)

const lockedWith = (originals: Record<string, Record<string, unknown>>): LockedInputs => ({
  hasLockFile: true,
  inputs: [],
  originals: new Map(Object.entries(originals)),
  urls: [],
});
const declared = (input: Record<string, unknown>) => ({ inputs: {}, ...input });

describe("inputs flake.nix declares", () => {
  it("accepts inputs locked as declared, in the forms Nix records, and follows", () => {
    const locked = lockedWith({
      nixpkgs: { type: "github", owner: "NixOS", repo: "nixpkgs", ref: "nixos-22.05" },
      tools: { type: "git", url: "https://git.example.org/tools", ref: "main" },
      pinned: { type: "github", owner: "o", repo: "r", rev: "0123456789abcdef0123456789abcdef01234567" },
      typed: { type: "gitlab", owner: "o", repo: "r" },
    });
    const found = unlockedDeclaredInputs(
      {
        nixpkgs: declared({ url: "github:NixOS/nixpkgs/nixos-22.05" }),
        tools: declared({ url: "git+https://git.example.org/tools?ref=main", flake: false }),
        pinned: declared({ url: "github:o/r/0123456789abcdef0123456789abcdef01234567" }),
        typed: declared({ type: "gitlab", owner: "o", repo: "r" }),
        other: declared({ follows: "nixpkgs", inputs: { nixpkgs: declared({ follows: "nixpkgs" }) } }),
      },
      locked,
    );
    expect(found).toEqual([]);
  });

  it("names inputs missing from flake.lock, changed since it was locked, or overridden for an input's input", () => {
    const locked = lockedWith({ tools: { type: "git", url: "https://git.example.org/tools" }, lib: { type: "github", owner: "o", repo: "lib" } });
    const found = unlockedDeclaredInputs(
      {
        keys: declared({ url: "path:/home/u/.ssh", flake: false }),
        tools: declared({ url: "git+ssh://git@attacker.example/tools" }),
        lib: declared({ url: "github:o/lib", inputs: { evil: declared({ url: "https://attacker.example/x.tar.gz" }) } }),
        odd: declared({ url: "hg+https://example.org/odd" }),
      },
      locked,
    );
    expect(found).toEqual([
      { path: "keys", source: "path:/home/u/.ssh", kinds: ["local", "unlocked"] },
      { path: "tools", source: "git+ssh://git@attacker.example/tools", kinds: ["ssh", "unlocked"] },
      { path: "lib/evil", source: "https://attacker.example/x.tar.gz", kinds: ["unlocked"] },
      { path: "odd", source: "hg+https://example.org/odd", kinds: ["unlocked"] },
    ]);
  });
});
