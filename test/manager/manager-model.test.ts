import { describe, expect, it } from "vitest";
import { ManagerModel, type ManagerView } from "../../src/manager/manager-model.js";
import type { Job } from "../../src/shared/job-api.js";
import { SessionFeed } from "../../src/bar/session-feed.js";
import { networkStatus } from "../bar/network-status.js";
import { ScriptedNameWatch } from "../bar/scripted-session.js";
import { ScriptedManagerSession } from "./scripted-manager-session.js";

const GENERATIONS = [
  { number: 1, createdAt: 1, current: false, path: "/g/1", revision: "aaaa" },
  { number: 2, createdAt: 2, current: true, path: "/g/2", revision: "bbbb" },
];

async function modelOf(session: ScriptedManagerSession, present = true) {
  const watch = new ScriptedNameWatch(present);
  const reports: string[] = [];
  const feed = new SessionFeed<ScriptedManagerSession>({ watch: watch.watch, connect: async () => session, report: (message) => reports.push(message) });
  const model = new ManagerModel(feed, { report: (message) => reports.push(message), now: () => 0 });
  let changes = 0;
  model.on("changed", () => changes++);
  await feed.start();
  return { model, watch, reports, changes: () => changes };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function networksView(view: ManagerView) {
  if (view.kind !== "networks") throw new Error(`expected the networks view, got ${view.kind}`);
  return view;
}

describe("the manager window's model", () => {
  it("says clan-sessiond is missing, and shows its networks once it appears and missing again when it vanishes", async () => {
    const session = new ScriptedManagerSession([networkStatus(), networkStatus({ name: "club", label: "Club" })]);
    const { model, watch } = await modelOf(session, false);
    expect(model.view()).toEqual({ kind: "sessiond-missing" });
    await watch.appear();
    expect(networksView(model.view()).rows.map((row) => row.name)).toEqual(["club", "family"]);
    watch.vanish();
    expect(model.view()).toEqual({ kind: "sessiond-missing" });
  });

  it("shows the selected network's detail with its generations, and follows NetworkChanged live", async () => {
    const session = new ScriptedManagerSession([networkStatus({ generation: "family-2" })]);
    session.generationLists.set("family", GENERATIONS);
    const { model } = await modelOf(session);
    expect(networksView(model.view()).detail).toBeUndefined();
    model.select("family");
    await settle();
    const view = networksView(model.view());
    expect(view.selected).toBe("family");
    expect(view.detail?.generations.map((row) => row.title)).toEqual(["Generation 2 (current)", "Generation 1"]);
    session.emitChanged(networkStatus({ generation: "family-2", vmState: "running" }));
    expect(networksView(model.view()).detail?.vm.state).toBe("running");
    expect(networksView(model.view()).rows[0]?.state).toBe("running");
    // The same generation: no new read.
    expect(session.generationReads).toBe(1);
  });

  it("reads the generations again when the published generation changes or a rollback job ends", async () => {
    const session = new ScriptedManagerSession([networkStatus({ generation: "family-2" })]);
    session.generationLists.set("family", GENERATIONS);
    const { model } = await modelOf(session);
    model.select("family");
    await settle();
    session.generationLists.set("family", GENERATIONS.map((generation) => ({ ...generation, current: generation.number === 1 })));
    session.emitChanged(networkStatus({ generation: "family-1" }));
    await settle();
    expect(session.generationReads).toBe(2);
    expect(networksView(model.view()).detail?.generations.find((row) => row.current)?.number).toBe(1);
    const ended: Job = { id: "rollback-family-1", kind: "rollback", network: "family", state: "succeeded", phase: "", fraction: -1, startedAt: 1, finishedAt: 2, error: "", result: "generation 1 is current" };
    session.emitJob(ended);
    await settle();
    expect(session.generationReads).toBe(3);
    expect(networksView(model.view()).detail?.job?.text).toBe("Roll back done: generation 1 is current");
  });

  it("sends the user's actions to clan-sessiond and shows a refusal as the network's notice", async () => {
    const session = new ScriptedManagerSession([networkStatus()]);
    const { model } = await modelOf(session);
    model.select("family");
    model.vmAction("family", "start");
    model.rollback("family", 1);
    model.backUp("family");
    model.rebuild("family");
    await settle();
    expect(session.calls).toEqual(["Start(\"family\")", "StartRollback(\"family\", 1)", "StartBackup(\"family\")", "StartRebuild(\"family\")"]);
    session.refusals.set("Pause", "family is not running");
    model.vmAction("family", "pause");
    await settle();
    expect(networksView(model.view()).detail?.notice).toBe("Pause failed: family is not running");
    // The next action clears it.
    model.vmAction("family", "start");
    await settle();
    expect(networksView(model.view()).detail?.notice).toBe("");
  });

  it("follows JobChanged only from the clan-sessiond that is on the bus now", async () => {
    const first = new ScriptedManagerSession([networkStatus()]);
    const { model, watch } = await modelOf(first);
    model.select("family");
    watch.vanish();
    const job: Job = { id: "backup-family-1", kind: "backup", network: "family", state: "failed", phase: "", fraction: -1, startedAt: 1, finishedAt: 2, error: "disk full", result: "" };
    first.emitJob(job);
    await watch.appear();
    expect(networksView(model.view()).detail?.job).toBeUndefined();
    first.emitJob(job);
    expect(networksView(model.view()).detail?.job?.text).toBe("Back up failed: disk full");
  });

  it("reads the build log once when chosen and when a rebuild starts or ends, and grows it by BuildLogChanged in between", async () => {
    const session = new ScriptedManagerSession([networkStatus()]);
    session.buildLogs.set("family", "old log");
    const { model } = await modelOf(session);
    model.select("family");
    await settle();
    expect(session.buildLogReads).toBe(1);
    expect(networksView(model.view()).detail?.update.log).toBe("old log");
    // Changes of the network, also while it builds, read nothing: the lines come by signal.
    session.emitChanged(networkStatus({ vmState: "running" }));
    for (const fraction of [0.1, 0.5, 0.9]) session.emitChanged(networkStatus({ buildState: "building", buildProgress: fraction }));
    await settle();
    expect(session.buildLogReads).toBe(1);
    // A rebuild that starts is read once; its later steps are not.
    const job: Job = { id: "rebuild-family-1", kind: "rebuild", network: "family", state: "running", phase: "building", fraction: 0.1, startedAt: 1, finishedAt: 0, error: "", result: "" };
    session.buildLogs.set("family", "fetching");
    session.emitJob(job);
    // A batch that arrives while that read is under way is in its reply already: not appended twice.
    session.emitBuildLog({ network: "family", lines: ["fetching"], first: true });
    await settle();
    expect(session.buildLogReads).toBe(2);
    expect(networksView(model.view()).detail?.update.log).toBe("fetching");
    session.emitJob({ ...job, fraction: 0.5 });
    session.emitBuildLog({ network: "family", lines: ["building \u001b]0;title\u0007", "built"], first: false });
    session.emitBuildLog({ network: "club", lines: ["not this network's"], first: false });
    await settle();
    expect(session.buildLogReads).toBe(2);
    expect(networksView(model.view()).detail?.update.log).toBe("fetching\nbuilding \\x1b]0;title\\x07\nbuilt");
    // A new build's first batch replaces what the last build printed.
    session.emitBuildLog({ network: "family", lines: ["again"], first: true });
    expect(networksView(model.view()).detail?.update.log).toBe("again");
    // The window keeps as many lines as BuildLog does.
    session.emitBuildLog({ network: "family", lines: Array.from({ length: 500 }, (_, index) => `line ${index}`), first: false });
    expect(networksView(model.view()).detail?.update.log.split("\n")).toHaveLength(400);
    session.emitJob({ ...job, state: "succeeded", finishedAt: 2, result: "generation 1 is running" });
    await settle();
    expect(session.buildLogReads).toBe(3);
  });

  it("reads the snapshots of a network with a backup when chosen and after a newer backup, and restores the one the user confirmed", async () => {
    const backedUp = { backupState: "ok" as const, backupLastSuccess: 1000 };
    const session = new ScriptedManagerSession([networkStatus(backedUp), networkStatus({ name: "club", label: "Club", backupState: "unknown" })]);
    session.snapshotLists.set("family", [{ id: "a".repeat(64), time: 1000, size: 10 }]);
    const { model } = await modelOf(session);
    model.select("club");
    await settle();
    expect(session.snapshotReads).toBe(0);
    model.select("family");
    await settle();
    expect(networksView(model.view()).detail?.backups.snapshots.map((row) => row.id)).toEqual(["a".repeat(64)]);
    session.emitChanged(networkStatus({ ...backedUp, vmState: "running" }));
    await settle();
    expect(session.snapshotReads).toBe(1);
    session.snapshotLists.set("family", [{ id: "a".repeat(64), time: 1000, size: 10 }, { id: "b".repeat(64), time: 2000, size: 10 }]);
    session.emitChanged(networkStatus({ ...backedUp, backupLastSuccess: 2000 }));
    await settle();
    expect(session.snapshotReads).toBe(2);
    expect(networksView(model.view()).detail?.backups.snapshots.map((row) => row.id[0])).toEqual(["b", "a"]);
    model.restore("family", "b".repeat(64));
    await settle();
    expect(session.calls).toEqual([`StartRestore("family", "${"b".repeat(64)}")`]);
  });
});
