import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import type { Job } from "../../src/shared/job-api.js";
import { clanctl, waitUntil } from "../helpers/daemons.js";
import { createNetworkFlake, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// Rebuild and rollback through the real Nix (Debian's nix-bin, as root), real clan-vmd and QEMU.

const needs = ["nix", "nix-env", "git", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
// Unique per run: a generation Nix already has in its store is not built again, and then has no build log.
const run = Date.now().toString(36);
const marker = (name: string) => `family-${name}-${run}`;

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`rebuild and rollback ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let flake: NetworkFlake;
  let stack: SessionStack;
  let notifications: { shown: ShownNotification[]; stop(): void };
  let profile: string;
  const published: NetworkStatus[] = [];
  const revisions: string[] = [];

  beforeAll(async () => {
    flake = await createNetworkFlake();
    revisions.push(await flake.commit(marker("a")));
    stack = await startSessionStack({
      config: { networks: { family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { flake: flake.url } } } },
      daemonEnv: { NIX_CONFIG: TEST_NIX_CONFIG, XDG_STATE_HOME: join(flake.dir, "..", `${flake.dir.split("/").pop()}-state`) },
    });
    profile = join(stack.env.XDG_STATE_HOME!, "clan-desktop", "profiles", "family");
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!);
    stack.session.onNetworkChanged((status) => published.push(status), (error) => {
      throw error;
    });
  });

  afterAll(async () => {
    notifications?.stop();
    await stack?.stop();
  });

  const current = async () => (await stack.session.generations("family")).find((g) => g.current);
  const bootedPath = async () => (await stack.vms.list()).find((vm) => vm.network === "family")?.generation;

  it("rebuild builds the flake, registers generation 1 in the Nix profile, boots it and tells the user", async () => {
    const result = await clanctl(["rebuild", "family"], stack.env);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe("family: rebuilt; generation 1 is running");
    const generation = await current();
    expect(generation).toMatchObject({ number: 1, revision: revisions[0] });
    expect(await bootedPath()).toBe(generation!.path);
    expect(published.some((s) => s.buildState === "building")).toBe(true);
    expect(published.at(-1)).toMatchObject({ buildState: "idle", buildProgress: -1 });
    expect(await stack.session.buildLog("family")).toContain("built generation");
    const { stdout } = await execa("nix-env", ["--profile", profile, "--list-generations"]);
    expect(stdout).toMatch(/^\s+1\s+\S+ \S+\s+\(current\)$/m);
    expect(notifications.shown.map((n) => n.summary)).toContain("family: rebuilt");
  });

  it("a new commit in the git source shows as an update, and rebuilding boots it", async () => {
    expect(await stack.session.checkUpdate("family")).toBe(false);
    revisions.push(await flake.commit(marker("b")));
    expect((await clanctl(["check-update", "family"], stack.env)).stdout).toBe("family: an update is available");
    expect((await stack.session.getNetwork("family")).updateAvailable).toBe(true);
    expect((await clanctl(["rebuild", "family"], stack.env)).exitCode).toBe(0);
    expect(await current()).toMatchObject({ number: 2, revision: revisions[1] });
    expect((await stack.session.getNetwork("family")).updateAvailable).toBe(false);
    expect(await stack.vms.consoleTail("family", 4096)).toContain(`clan test guest ${marker("b")} ready`);
  });

  it("a generation that never reports ready is rolled back by itself, with a notification", async () => {
    await flake.commit(marker("broken"), { neverReady: true });
    const result = await clanctl(["rebuild", "family"], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("generation 3 did not come up");
    expect(result.stderr).toContain("rolled back to 2");
    expect(await current()).toMatchObject({ number: 2 });
    expect((await stack.session.generations("family")).map((g) => g.number)).toEqual([1, 2, 3]);
    expect((await stack.session.getNetwork("family")).vmState).toBe("running");
    expect(await bootedPath()).toBe((await current())!.path);
    expect(notifications.shown.at(-1)?.summary).toBe("family: rolled back");
  });

  it("a failing build's job ends failed with the build error, and clanctl follows it and exits 1; the running generation stays", async () => {
    const changes: Job[] = [];
    const stop = stack.session.onJobChanged((job) => changes.push(job), (error) => {
      throw error;
    });
    await flake.commit(marker("unbuildable"), { buildFails: true });
    const result = await clanctl(["rebuild", "family"], stack.env);
    stop();
    expect(result.exitCode, result.all).toBe(1);
    const failed = changes.filter((job) => job.kind === "rebuild" && job.state === "failed").at(-1);
    expect(failed).toBeDefined();
    expect(failed!.error).toMatch(/^nix build git\+file:\/\/\S+ failed \(exit 1\): error: builder for '\/nix\/store\/\S+\.drv' failed with exit code 3/);
    expect(failed!.error).toContain(`the build broke: ${marker("unbuildable")}`);
    expect(changes.filter((job) => job.id === failed!.id).map((job) => job.phase)).toContain("building");
    expect(result.stderr).toContain(`clanctl: rebuild of family failed: ${failed!.error}`);
    expect(result.stderr).toContain("family: rebuilding — building\n");
    expect(await current()).toMatchObject({ number: 2 });
    expect(await stack.session.getNetwork("family")).toMatchObject({ buildState: "failed", jobId: "", vmState: "running" });
    expect(notifications.shown.at(-1)).toMatchObject({ summary: "family: rebuild failed" });
    // --no-wait answers with the job's id at once.
    const noWait = await clanctl(["rebuild", "family", "--no-wait"], stack.env);
    expect(noWait.stdout.trim(), noWait.all).toMatch(/^rebuild-family-\d+$/);
    await waitUntil(async () => ((await stack.session.getJob(noWait.stdout.trim())).state === "failed" ? true : undefined), "the second build to fail", 120_000);
  });

  it("rollback --to N and rollback to the previous generation agree with nix-env", async () => {
    expect((await clanctl(["rollback", "family", "--to", "1"], stack.env)).stdout).toBe("family: generation 1 is current");
    expect(await bootedPath()).toBe((await current())!.path);
    expect(await readFile(join(stack.root, "state", "family", "console.log"), "utf8")).toContain(`${marker("a")} ready`);
    expect((await clanctl(["rollback", "family", "--to", "2"], stack.env)).exitCode).toBe(0);
    expect((await clanctl(["rollback", "family"], stack.env)).stdout).toBe("family: generation 1 is current");
    const { stdout } = await execa("nix-env", ["--profile", profile, "--list-generations"]);
    expect(stdout).toMatch(/^\s+1\s+\S+ \S+\s+\(current\)$/m);
    const missing = await clanctl(["rollback", "family", "--to", "9"], stack.env);
    expect(missing.stderr).toContain("has no generation 9 (it has: 1, 2, 3)");
  });

  it("Settings' automatic updates (as the manager sets them) find a new commit and rebuild it unasked; with notifications off, silently", async () => {
    const shownBefore = notifications.shown.length;
    revisions.push(await flake.commit(marker("c")));
    await stack.session.setNotifications(false);
    expect(await stack.session.notifications()).toBe(false);
    // Turning the policy on rewrites config.json; clan-sessiond reads it again and checks the changed source at once.
    await stack.session.setUpdatePolicy("family", { check: true, rebuild: true });
    expect(await stack.session.updatePolicy("family")).toEqual({ check: true, rebuild: true });
    const rebuilt = await waitUntil(async () => {
      const generation = await current();
      return generation?.revision === revisions.at(-1) ? generation : undefined;
    }, `an automatic rebuild of ${revisions.at(-1)}:\n${stack.sessiond.output().slice(-3000)}`, 240_000);
    expect(rebuilt.number).toBe(4);
    const jobId = /family: an update is available; automatic rebuild started \(job (rebuild-family-\d+)\)/.exec(stack.sessiond.output())?.[1];
    expect(jobId, stack.sessiond.output().slice(-3000)).toBeDefined();
    const job = await waitUntil(async () => {
      const state = await stack.session.getJob(jobId!);
      return state.state === "running" ? undefined : state;
    }, "the automatic rebuild's job to end", 120_000);
    expect(job.state).toBe("succeeded");
    expect(await bootedPath()).toBe(rebuilt.path);
    expect((await stack.session.getNetwork("family")).updateAvailable).toBe(false);
    // The job's end would have said "family: rebuilt" by now (it is sent as the job ends): the setting kept it away.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(notifications.shown.slice(shownBefore).map((n) => n.summary)).toEqual([]);
    await stack.session.setNotifications(true);
  });

  it("an unknown network is refused by name", async () => {
    const result = await clanctl(["rebuild", "nosuch"], stack.env);
    expect(result.stderr).toContain('no network named "nosuch"');
  });
});
