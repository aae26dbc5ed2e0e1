import { rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { buildStoreGenerations, type StoreGenerations } from "../helpers/store-generations.js";
import { bootAndList as bootAndListOn, closureNamesA, expectClosureB, holdersOf, viewOf } from "../helpers/store-view-probes.js";

// A generation's store view is prepared once and reused by its later starts (prepared-store-views.ts). Played
// against the real clan-vmd, Nix, virtiofsd and QEMU: a reused view must never be stale. The same generation
// directory whose link is moved to another closure, and a network that boots another generation, must each get a
// view of exactly the new closure — none of the old one's extra paths, none of the new one's missing — seen by the
// real guest through virtiofs. A view no network keeps is ended, and every one ends when clan-vmd dies.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", "nix-build", "nix-store", "nsenter", VIRTIOFSD];
const isRoot = process.getuid?.() === 0;
const run = `prep-${Date.now().toString(36)}-${process.pid}`;
const NETWORK = "prepared";

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`prepared store views ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let stack: VmdStack;
  let built: StoreGenerations;
  let handMade: string;

  beforeAll(async () => {
    built = await buildStoreGenerations(run);
    stack = await startVmdStack({ tmpPrefix: "clan-prepared-views-e2e-" });
    // A generation outside the store: its closure is that of the store path its `toplevel` link leads to.
    handMade = await makeGeneration(join(stack.root, "hand-made"), {
      generation: "hand-made",
      vm: { stateDiskMiB: 0, shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }] },
    });
    await symlink(built.generationA, join(handMade, "toplevel"));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const closureA = () => closureNamesA(built);

  const bootAndList = (generation: string) => bootAndListOn(stack.api, NETWORK, generation);

  it("a second start reuses the generation's view: the same holder, and the guest still sees exactly the closure", async () => {
    expect(await bootAndList(handMade)).toEqual(closureA());
    const [holder, ...others] = await holdersOf(stack.vmd.process.pid!);
    expect(others).toEqual([]);
    expect(await viewOf(holder!)).toEqual(closureA());
    expect(await bootAndList(handMade)).toEqual(closureA());
    expect(await holdersOf(stack.vmd.process.pid!)).toEqual([holder]);
  });

  it("the same generation directory led to another closure gets a new view, and the old one ends", async () => {
    const [old] = await holdersOf(stack.vmd.process.pid!);
    await rm(join(handMade, "toplevel"));
    await symlink(built.generationB, join(handMade, "toplevel"));
    const listing = await bootAndList(handMade);
    expectClosureB(listing, built, run);
    expect(isAlive(old!)).toBe(false);
    const [holder, ...others] = await holdersOf(stack.vmd.process.pid!);
    expect(others).toEqual([]);
    expect(holder).not.toBe(old);
    expect(await viewOf(holder!)).toEqual(listing);
  });

  it("a network that boots another generation gets that generation's view, and the one it kept before ends", async () => {
    const [old] = await holdersOf(stack.vmd.process.pid!);
    expect(await bootAndList(built.generationA)).toEqual(closureA());
    expect(isAlive(old!)).toBe(false);
    expect(await holdersOf(stack.vmd.process.pid!)).toHaveLength(1);
  });

  it("every holder ends when clan-vmd dies, even by SIGKILL", async () => {
    const holders = await holdersOf(stack.vmd.process.pid!);
    expect(holders).toHaveLength(1);
    await stack.vmd.stop("SIGKILL");
    await waitUntil(() => holders.every((pid) => !isAlive(pid)), "the view holders to end with clan-vmd", 15_000);
  });
});
