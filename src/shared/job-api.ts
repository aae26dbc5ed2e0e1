import { Variant } from "@jellybrick/dbus-next";
import { z } from "zod";
import { unwrapVariants } from "./vm-api.js";

// A job: one long action (rebuild, rollback, backup, restore) that clan-sessiond runs for a client. The Start*
// methods return its id at once and JobChanged carries the whole job, flat like a network's status, at every
// step and at its end (docs/dbus.md, docs/decisions/jobs.md).

export const JOB_KINDS = ["rebuild", "rollback", "backup", "restore"] as const;
export const JobKind = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKind>;

export const JobState = z.enum(["running", "succeeded", "failed"]);
export type JobState = z.infer<typeof JobState>;

export const Job = z.object({
  /** "<kind>-<network>-<n>", unique for the lifetime of one clan-sessiond. */
  id: z.string(),
  kind: JobKind,
  network: z.string(),
  state: JobState,
  /** What the job does now ("building", "copying the state disk"), or did last when it ended. */
  phase: z.string(),
  /** 0..1 of the phase when known, -1 otherwise. */
  fraction: z.number(),
  /** Unix time in ms. */
  startedAt: z.number(),
  /** Unix time in ms when it ended; 0 while it runs. */
  finishedAt: z.number(),
  /** Why it failed; "" otherwise. */
  error: z.string(),
  /** What it achieved, in words ("snapshot 1a2b3c4d", "generation 3 is running"); "" until it succeeds. */
  result: z.string(),
});
export type Job = z.infer<typeof Job>;

export const JOB_SIGNATURE = "a{sv}";

const SIGNATURES: Record<keyof Job, string> = {
  id: "s",
  kind: "s",
  network: "s",
  state: "s",
  phase: "s",
  fraction: "d",
  startedAt: "d",
  finishedAt: "d",
  error: "s",
  result: "s",
};

export function encodeJob(job: Job): Record<string, Variant> {
  return Object.fromEntries((Object.keys(SIGNATURES) as (keyof Job)[]).map((key) => [key, new Variant(SIGNATURES[key], job[key])]));
}

export function decodeJob(raw: unknown): Job {
  return Job.parse(unwrapVariants(raw));
}

/** What a job is doing, in a few words for a bar or a menu: "backing up", "rebuilding". */
export const JOB_VERBS: Readonly<Record<JobKind, string>> = {
  rebuild: "rebuilding",
  rollback: "rolling back",
  backup: "backing up",
  restore: "restoring",
};
