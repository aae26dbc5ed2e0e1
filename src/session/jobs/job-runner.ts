import { EventEmitter } from "node:events";
import { ClanError, errorMessage } from "../../shared/errors.js";
import type { Job, JobKind } from "../../shared/job-api.js";

// The jobs clan-sessiond runs for its clients: a long action starts, its id goes back to the caller at once, and
// every step and the end are published as the whole job ("changed"). A second request for the same kind on the
// same network while one runs joins it. Ended jobs stay listed for a while, so that a client that looks late
// still learns the outcome.

/** Reports the job's phase, and how far into it (0..1) when known. */
export type ProgressReport = (phase: string, fraction?: number) => void;

/** For work run outside a job (a scheduled backup, a direct call): its progress goes nowhere. */
export const noProgress: ProgressReport = () => undefined;

/** The work of a job: it reports progress and resolves with what it achieved, in words. */
export type JobWork = (progress: ProgressReport) => Promise<string>;

export interface JobRunnerEvents {
  changed: [job: Job];
}

export interface JobRunnerOptions {
  now?: () => number;
  /** How long an ended job stays listed. */
  keepEndedMs?: number;
  /** How many ended jobs stay listed at most; the oldest go first. */
  keepEndedCount?: number;
}

const KEEP_ENDED_MS = 15 * 60_000;
const KEEP_ENDED_COUNT = 100;

export class JobRunner extends EventEmitter<JobRunnerEvents> {
  private readonly jobs = new Map<string, Job>();
  private readonly outcomes = new Map<string, Promise<string>>();
  private readonly expiries = new Map<string, NodeJS.Timeout>();
  private counter = 0;
  private readonly now: () => number;
  private readonly keepEndedMs: number;
  private readonly keepEndedCount: number;

  constructor(options: JobRunnerOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.keepEndedMs = options.keepEndedMs ?? KEEP_ENDED_MS;
    this.keepEndedCount = options.keepEndedCount ?? KEEP_ENDED_COUNT;
  }

  /** Starts `work` as a job of `kind` on `network`, or returns the one of that kind already running there. */
  start(kind: JobKind, network: string, work: JobWork): Job {
    const running = this.running(network).find((job) => job.kind === kind);
    if (running) return running;
    this.counter += 1;
    const job: Job = {
      id: `${kind}-${network}-${this.counter}`,
      kind,
      network,
      state: "running",
      phase: "starting",
      fraction: -1,
      startedAt: this.now(),
      finishedAt: 0,
      error: "",
      result: "",
    };
    this.jobs.set(job.id, job);
    const progress: ProgressReport = (phase, fraction) => {
      const current = this.jobs.get(job.id);
      if (current?.state !== "running") return;
      const clamped = fraction === undefined || !Number.isFinite(fraction) ? -1 : Math.min(1, Math.max(0, fraction));
      if (current.phase === phase && current.fraction === clamped) return;
      this.publish({ ...current, phase, fraction: clamped });
    };
    // The work starts on the next turn, so that the caller holds the id before the first change is published.
    const outcome = Promise.resolve().then(() => work(progress));
    this.outcomes.set(job.id, outcome);
    outcome.then(
      (result) => this.end(job.id, { state: "succeeded", result }),
      (error: unknown) => this.end(job.id, { state: "failed", error: errorMessage(error) }),
    );
    this.emit("changed", job);
    return job;
  }

  /** Resolves with the job's result, or rejects with the error it failed with (the error itself, code and all). */
  outcome(id: string): Promise<string> {
    const outcome = this.outcomes.get(id);
    if (!outcome) return Promise.reject(new ClanError("NotFound", `no job ${JSON.stringify(id.slice(0, 80))} (ended jobs are kept for ${this.keepEndedMs / 60_000} minutes)`));
    return outcome;
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new ClanError("NotFound", `no job ${JSON.stringify(id.slice(0, 80))} (ended jobs are kept for ${this.keepEndedMs / 60_000} minutes)`);
    return job;
  }

  /** Every job running or recently ended, oldest first. */
  list(): Job[] {
    return [...this.jobs.values()];
  }

  /** The network's running jobs, latest started first. */
  running(network: string): Job[] {
    return this.list()
      .filter((job) => job.network === network && job.state === "running")
      .reverse();
  }

  close(): void {
    for (const timer of this.expiries.values()) clearTimeout(timer);
    this.expiries.clear();
  }

  private end(id: string, ending: Pick<Job, "state"> & Partial<Pick<Job, "error" | "result">>): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.publish({ ...job, ...ending, fraction: ending.state === "succeeded" ? 1 : job.fraction, finishedAt: this.now() });
    // The outcome stays readable for late old-style callers; an unobserved failure is not an unhandled rejection.
    this.outcomes.get(id)?.catch(() => undefined);
    this.expiries.set(id, setTimeout(() => this.forget(id), this.keepEndedMs).unref());
    const ended = this.list().filter((other) => other.state !== "running");
    for (const old of ended.slice(0, Math.max(0, ended.length - this.keepEndedCount))) this.forget(old.id);
  }

  private forget(id: string): void {
    clearTimeout(this.expiries.get(id));
    this.expiries.delete(id);
    this.jobs.delete(id);
    this.outcomes.delete(id);
  }

  private publish(job: Job): void {
    this.jobs.set(job.id, job);
    this.emit("changed", job);
  }
}
