import { z } from "zod";
import { dictionary } from "./contracts/define.js";

// A job: one long action (rebuild, rollback, backup, restore) that clan-sessiond runs for a client. The Start*
// methods return its id at once and JobChanged carries the whole job, flat like a network's status, at every
// step and at its end (docs/dbus.md, docs/decisions/jobs.md).

const JOB_KINDS = ["rebuild", "rollback", "backup", "restore"] as const;
export const JobKind = z.enum(JOB_KINDS);
export type JobKind = z.infer<typeof JobKind>;

const JobState = z.enum(["running", "succeeded", "failed"]);
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

export const JobDictionary = dictionary("Job", Job, {
  id: { codec: "s", doc: "`<kind>-<network>-<n>`, unique while clan-sessiond runs" },
  kind: { codec: "s", doc: "`rebuild`, `rollback`, `backup`, `restore`" },
  network: { codec: "s", doc: "the network it acts on" },
  state: { codec: "s", doc: "`running`, then `succeeded` or `failed`" },
  phase: {
    codec: "s",
    doc: "what it does now, in words (`building`, `running the pre-backup hooks and copying the state disk`, `storing the copy in the repository`, `download the snapshot`, …); when it ended, the last one",
  },
  fraction: { codec: "d", doc: "0..1 of the phase when known (the Nix build, restic's upload), -1 otherwise; 1 on success" },
  startedAt: { codec: "d", doc: "Unix ms" },
  finishedAt: { codec: "d", doc: "Unix ms; 0 while it runs" },
  error: { codec: "s", doc: "why it failed, `\"\"` otherwise (a failed build carries Nix's error and the builder's last lines)" },
  result: {
    codec: "s",
    doc: "what it achieved, `\"\"` until it succeeded: `generation 3 is running (1a2b3c4d5e6f)`, `generation 2 is current`, `stored as snapshot 1a2b3c4d`, or for a restore the full id of the snapshot restored",
  },
});

/** What a job is doing, in a few words for a bar or a menu: "backing up", "rebuilding". */
export const JOB_VERBS: Readonly<Record<JobKind, string>> = {
  rebuild: "rebuilding",
  rollback: "rolling back",
  backup: "backing up",
  restore: "restoring",
};
