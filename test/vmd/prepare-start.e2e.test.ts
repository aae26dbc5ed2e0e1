import { mkdir, realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { parseStartTimings } from "../../src/vmd/start-timings.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { buildStoreGenerations, type StoreGenerations } from "../helpers/store-generations.js";
import { bootAndList, closureNamesA, expectClosureB, holdersOf, viewOf } from "../helpers/store-view-probes.js";

// PrepareStart prepares a generation's store view before its first start (start-preparation.ts), played against the
// real clan-vmd, Nix, virtiofsd and QEMU. The first start after it must reuse that view — its own timings say so —
// and the guest must still see exactly its generation's closure, nothing of the generation the network kept before.
// A hostile vm.json that Start refuses, PrepareStart refuses with the same error, and prepares nothing for it.

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", "nix-build", "nix-store", "nsenter", VIRTIOFSD];
const isRoot = process.getuid?.() === 0;
const run = `prepst-${Date.now().toString(36)}-${process.pid}`;
const NETWORK = "prepstart";

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`PrepareStart ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let stack: VmdStack;
  let built: StoreGenerations;

  beforeAll(async () => {
    built = await buildStoreGenerations(run);
    stack = await startVmdStack({ tmpPrefix: "clan-prepare-start-e2e-", env: { CLAN_DEBUG: "1" } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const vmdPid = () => stack.vmd.process.pid!;

  /** Asks clan-vmd to prepare `generation`'s start and waits for its log line saying the view is mounted. */
  async function prepare(generation: string): Promise<void> {
    const before = stack.vmd.output().length;
    await stack.api.prepareStart(NETWORK, generation);
    const resolved = await realpath(generation);
    await waitUntil(() => stack.vmd.output().slice(before).includes(`${NETWORK}: store view of ${resolved} prepared ahead of its start`), "the view prepared ahead", 60_000);
  }

  /** The steps of the network's latest start, as clan-vmd logged them. */
  function lastStartSteps(): Map<string, number> {
    const line = stack.vmd.output().split("\n").filter((entry) => entry.includes(`${NETWORK}: start timings:`)).at(-1);
    const steps = line === undefined ? undefined : parseStartTimings(line);
    if (!steps) throw new Error(`clan-vmd logged no start timings for ${NETWORK}:\n${stack.vmd.output()}`);
    return steps;
  }

  it("the generation's first start after PrepareStart reuses the prepared view, and the guest sees exactly its closure", async () => {
    await prepare(built.generationA);
    const [holder, ...others] = await holdersOf(vmdPid());
    expect(others).toEqual([]);
    expect(await viewOf(holder!)).toEqual(closureNamesA(built));
    expect(await bootAndList(stack.api, NETWORK, built.generationA)).toEqual(closureNamesA(built));
    const steps = lastStartSteps();
    expect(steps.has("view reused")).toBe(true);
    // Nothing of the preparation was on the start's path.
    expect(steps.has("closure")).toBe(false);
    expect(steps.has("view mounts")).toBe(false);
    expect(await holdersOf(vmdPid())).toEqual([holder]);
  });

  it("PrepareStart of the network's next generation replaces the view it kept, and that generation's first start reuses it", async () => {
    const [old] = await holdersOf(vmdPid());
    await prepare(built.generationB);
    await waitUntil(() => !isAlive(old!), "the view the network kept before to end", 15_000);
    const [holder, ...others] = await holdersOf(vmdPid());
    expect(others).toEqual([]);
    const listing = await bootAndList(stack.api, NETWORK, built.generationB);
    expectClosureB(listing, built, run);
    expect(await viewOf(holder!)).toEqual(listing);
    expect(lastStartSteps().has("view reused")).toBe(true);
  });

  it("a hostile vm.json that Start refuses is refused by PrepareStart with the same error, and nothing is prepared for it", async () => {
    const hostile = join(stack.root, "hostile");
    const greedy = await makeGeneration(join(hostile, "greedy"), { generation: "greedy", vm: { memoryMiB: 65536, shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }] } });
    const ungranted = await makeGeneration(join(hostile, "ungranted"), {
      generation: "ungranted",
      vm: { shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }, { tag: "etc", source: "/etc", readOnly: true }] },
    });
    const malformed = await makeGeneration(join(hostile, "malformed"), { generation: "malformed" });
    await writeFile(join(malformed, "vm.json"), JSON.stringify({ memoryMiB: "all of it", shares: [{ tag: "nix-store", source: "/nix/store", readOnly: true }] }));
    const missing = join(hostile, "missing");
    await mkdir(missing);
    const holders = await holdersOf(vmdPid());
    const cases = [
      [greedy, "OverLimit"],
      [ungranted, "NotGranted"],
      [malformed, "InvalidGeneration"],
      [missing, "InvalidGeneration"],
    ] as const;
    for (const [generation, code] of cases) {
      const started = await stack.api.start("prepstart-hostile", generation).then(() => undefined, (error: unknown) => error);
      const prepared = await stack.api.prepareStart("prepstart-hostile", generation).then(() => undefined, (error: unknown) => error);
      expect(started, generation).toMatchObject({ code });
      expect(prepared, generation).toMatchObject({ code, message: (started as Error).message });
    }
    expect(await holdersOf(vmdPid())).toEqual(holders);
    await expect(stack.api.prepareStart("../escape", built.generationA)).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  it("ReleaseStoreView ends the view a network kept: it left the user's config", async () => {
    const [holder, ...others] = await holdersOf(vmdPid());
    expect(others).toEqual([]);
    await stack.api.releaseStoreView(NETWORK);
    await waitUntil(() => !isAlive(holder!), "the released view's holder to end", 15_000);
    expect(await holdersOf(vmdPid())).toEqual([]);
  });
});
