import { readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { createNetworkFlake, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { holdersOf, viewOf } from "../helpers/store-view-probes.js";

// clan-sessiond has clan-vmd prepare a network's current generation for its start (start-preparer.ts) whenever that
// generation becomes known: after a build, when clan-vmd (re)appears, and it has the view released when the network
// leaves the config. Observed on clan-vmd's side — its log, its view holders and what they have mounted — with the
// real Nix, clan-vmd, clan-sessiond and QEMU.

const needs = ["nix", "nix-env", "git", "qemu-system-x86_64", "dbus-daemon", "nsenter", "/usr/lib/qemu/virtiofsd"];
const isRoot = process.getuid?.() === 0;
const run = Date.now().toString(36);

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`clan-sessiond prepares starts ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let flake: NetworkFlake;
  let stack: SessionStack;
  let profile: string;
  const config = (source: string) => ({ networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { flake: source } } } });

  beforeAll(async () => {
    flake = await createNetworkFlake();
    await flake.commit(`family-prepared-${run}`, { storeShare: true });
    stack = await startSessionStack({
      config: config(flake.url),
      daemonEnv: { NIX_CONFIG: TEST_NIX_CONFIG, CLAN_DEBUG: "1", XDG_STATE_HOME: join(flake.dir, "..", `${flake.dir.split("/").pop()}-state`) },
    });
    profile = join(stack.env.XDG_STATE_HOME!, "clan-desktop", "profiles", "family");
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** The store path of the profile's current generation. */
  const currentGeneration = async () => readlink(join(profile, "..", await readlink(profile)));
  const preparedLine = (generation: string) => `family: store view of ${generation} prepared ahead of its start`;

  it("a build's new generation is prepared before it boots: its start reuses the view clan-vmd prepared", async () => {
    const rebuilt = await clanctl(["rebuild", "family"], stack.env);
    expect(rebuilt.exitCode, rebuilt.all).toBe(0);
    const generation = await currentGeneration();
    expect(stack.vmd.output()).toContain(preparedLine(generation));
    const start = stack.vmd.output().split("\n").filter((line) => line.includes("family: start timings:")).at(-1);
    // The start joined the prepared view: it did not query the closure or mount the view itself.
    expect(start).toMatch(/view (reused|awaited)/);
    expect(start).not.toContain("view mounts");
    const [holder, ...others] = await holdersOf(stack.vmd.process.pid!);
    expect(others).toEqual([]);
    expect(await viewOf(holder!)).toContain(basename(generation));
  });

  it("when clan-vmd comes back, clan-sessiond has it prepare every network's current generation again", async () => {
    await stack.vms.stop("family");
    await stack.restartVmd();
    const generation = await currentGeneration();
    await waitUntil(() => stack.vmd.output().includes(preparedLine(generation)), "the current generation prepared by the new clan-vmd", 60_000);
    const [holder, ...others] = await holdersOf(stack.vmd.process.pid!);
    expect(others).toEqual([]);
    expect(await viewOf(holder!)).toContain(basename(generation));
  });

  it("a network that leaves the config has its prepared view ended", async () => {
    const [holder] = await holdersOf(stack.vmd.process.pid!);
    expect(holder).toBeDefined();
    await stack.writeConfig({ networks: {} });
    await waitUntil(() => !isAlive(holder!), "the holder of the removed network's view to end", 30_000);
    expect(await holdersOf(stack.vmd.process.pid!)).toEqual([]);
  });
});
