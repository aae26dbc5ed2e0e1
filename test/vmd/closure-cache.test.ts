import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ClosureCache } from "../../src/vmd/closure-cache.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { buildStoreGenerations } from "../helpers/store-generations.js";

// The cache of closures, against the real Nix store: a start of a known generation asks nix-store nothing, and a
// generation that garbage collection deleted and a rebuild brought back is asked for anew. Whether nix-store was
// asked shows by taking it off PATH: a query then fails with "nix-store is not on clan-vmd's PATH".

const needs = ["nix-build", "nix-store"];
const isRoot = process.getuid?.() === 0;

async function withoutNixStore<T>(body: () => Promise<T>): Promise<T> {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    return await body();
  } finally {
    process.env.PATH = path;
  }
}

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`the closure cache ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  it("answers a known generation without nix-store, and asks again once the generation was deleted and rebuilt", async () => {
    const run = `cache-${Date.now().toString(36)}-${process.pid}`;
    const built = await buildStoreGenerations(run);
    const cache = new ClosureCache();
    const expected = [built.generationA, built.libraryA, built.noteA, built.linkA].sort();
    expect([...(await cache.closureOf(built.generationA))].sort()).toEqual(expected);
    expect([...(await withoutNixStore(() => cache.closureOf(built.generationA)))].sort()).toEqual(expected);

    // What garbage collection and a rebuild do: the same store path, registered anew as a new file.
    await execa("nix-store", ["--delete", built.generationA]);
    await buildStoreGenerations(run);
    await expect(withoutNixStore(() => cache.closureOf(built.generationA))).rejects.toThrow(/nix-store is not on clan-vmd's PATH/);
    expect([...(await cache.closureOf(built.generationA))].sort()).toEqual(expected);
  }, 120_000);

  it("forgets a generation on request, and never answers one generation with another's closure", async () => {
    const run = `forget-${Date.now().toString(36)}-${process.pid}`;
    const built = await buildStoreGenerations(run);
    const cache = new ClosureCache();
    await cache.closureOf(built.generationA);
    await expect(withoutNixStore(() => cache.closureOf(built.generationB))).rejects.toThrow(/nix-store is not on clan-vmd's PATH/);
    await cache.forget(built.generationA);
    await expect(withoutNixStore(() => cache.closureOf(built.generationA))).rejects.toThrow(/nix-store is not on clan-vmd's PATH/);
  }, 120_000);
});
