import { describe, expect, it } from "vitest";
import { ClanError } from "../../../src/shared/errors.js";
import { Job } from "../../../src/shared/job-api.js";
import { JobRunner, type ProgressReport } from "../../../src/session/jobs/job-runner.js";

// The job bookkeeping on its own: ids, joining, progress, outcomes and how long ended jobs stay. The real
// daemon's jobs (a backup slower than D-Bus's timeout, a failing rebuild) are in backup-job.e2e.test.ts and
// rebuild.e2e.test.ts.

function controlled() {
  let finish!: (result: string) => void;
  let fail!: (error: Error) => void;
  let report!: ProgressReport;
  const work = (progress: ProgressReport) => {
    report = progress;
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { work, finish: (r: string) => finish(r), fail: (e: Error) => fail(e), report: (p: string, f?: number) => report(p, f) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("JobRunner", () => {
  it("returns a running job at once, publishes each step and the success, with the result", async () => {
    let now = 1000;
    const runner = new JobRunner({ now: () => now });
    const changes: Job[] = [];
    runner.on("changed", (job) => changes.push(Job.parse(job)));
    const work = controlled();
    const job = runner.start("backup", "family", work.work);
    expect(job).toMatchObject({ id: "backup-family-1", kind: "backup", network: "family", state: "running", startedAt: 1000, finishedAt: 0 });
    await settle();
    work.report("copying the state disk");
    work.report("storing", 0.25);
    work.report("storing", 0.25);
    work.report("storing", 7);
    now = 5000;
    work.finish("stored as snapshot 1a2b3c4d");
    expect(await runner.outcome(job.id)).toBe("stored as snapshot 1a2b3c4d");
    await settle();
    expect(changes.map((c) => [c.state, c.phase, c.fraction])).toEqual([
      ["running", "starting", -1],
      ["running", "copying the state disk", -1],
      ["running", "storing", 0.25],
      ["running", "storing", 1],
      ["succeeded", "storing", 1],
    ]);
    expect(runner.get(job.id)).toMatchObject({ state: "succeeded", finishedAt: 5000, result: "stored as snapshot 1a2b3c4d", error: "" });
    expect(runner.running("family")).toEqual([]);
    runner.close();
  });

  it("joins a second start of the same kind on the same network, but not another kind or network", async () => {
    const runner = new JobRunner();
    const first = controlled();
    const job = runner.start("backup", "family", first.work);
    const second = controlled();
    expect(runner.start("backup", "family", second.work).id).toBe(job.id);
    expect(runner.start("restore", "family", controlled().work).id).toBe("restore-family-2");
    expect(runner.start("backup", "club", controlled().work).id).toBe("backup-club-3");
    expect(runner.running("family").map((j) => j.id)).toEqual(["restore-family-2", "backup-family-1"]);
    await settle();
    first.finish("done");
    await runner.outcome(job.id);
    await settle();
    expect(runner.start("backup", "family", controlled().work).id).toBe("backup-family-4");
    runner.close();
  });

  it("ends failed with the error's message, and the outcome rejects with the error itself", async () => {
    const runner = new JobRunner();
    const work = controlled();
    const job = runner.start("rebuild", "family", work.work);
    await settle();
    work.fail(new ClanError("BuildFailed", "builder for '/nix/store/x.drv' failed"));
    await expect(runner.outcome(job.id)).rejects.toMatchObject({ code: "BuildFailed" });
    await settle();
    expect(runner.get(job.id)).toMatchObject({ state: "failed", error: "builder for '/nix/store/x.drv' failed", result: "" });
    runner.close();
  });

  it("keeps ended jobs for a while and at most a number of them; an unknown id is NotFound", async () => {
    const runner = new JobRunner({ keepEndedMs: 60_000, keepEndedCount: 2 });
    for (const network of ["a", "b", "c"]) {
      const job = runner.start("backup", network, async () => "ok");
      await runner.outcome(job.id);
    }
    await settle();
    expect(runner.list().map((j) => j.id)).toEqual(["backup-b-2", "backup-c-3"]);
    expect(() => runner.get("backup-a-1")).toThrow(/no job "backup-a-1"/);
    await expect(runner.outcome("backup-a-1")).rejects.toMatchObject({ code: "NotFound" });
    runner.close();
  });
});
