import { z } from "zod";

// A network's backup settings in config.json: where restic stores the network VM's state disk, how to get the
// repository's password, how often to back up and what to keep. Every string here ends up as an argument of
// restic (or of ssh, which restic runs for sftp), never in a shell, and is checked so that it cannot be taken
// for an option: a host such as "-oProxyCommand=…" would be one.

const NO_CONTROL_CHARACTERS = /^[^\p{Cc}\u2028\u2029]*$/u;

const LOCAL_REPOSITORY = String.raw`/[^\p{Cc}]*`;
// sftp:[user@]host:path, the form restic documents; a port or other ssh options belong in ~/.ssh/config.
const SFTP_REPOSITORY = String.raw`sftp:(?:[A-Za-z0-9_][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:]+\]):[^\s\p{Cc}]+`;
// No user:password@ in the URL: restic 0.14 would take credentials only from there, where every process listing
// shows them.
const REST_REPOSITORY = String.raw`rest:https?://(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?(?:/[^\s@\p{Cc}]*)?`;

const BackupRepository = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(new RegExp(`^(?:${LOCAL_REPOSITORY}|${SFTP_REPOSITORY}|${REST_REPOSITORY})$`, "u"), {
    error: (issue) =>
      `must be an absolute path, "sftp:[user@]host:path" or "rest:https://host[:port]/path" (without credentials in the URL), got ${JSON.stringify(String(issue.input).slice(0, 64))}`,
  })
  .describe('Where restic keeps the backups: "/absolute/path", "sftp:[user@]host:path" or "rest:https://host[:port]/path".');

const ArgvWord = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(NO_CONTROL_CHARACTERS, "must not contain control characters");

const Argv = z.array(ArgvWord).min(1, "must name a program").refine((argv) => argv[0] !== "", "the program must not be empty");

export const BackupPassword = z.union(
  [
    z
      .object({
        file: z
          .string()
          .regex(/^\/[^\p{Cc}]*$/u, "must be an absolute path")
          .describe("A file whose first line is the repository's password."),
      })
      .strict(),
    z
      .object({
        command: Argv.describe('A program and its arguments, run without a shell, that prints the password, e.g. ["pass", "show", "restic/family"].'),
      })
      .strict(),
  ],
  { error: 'must be {"file": "/absolute/path"} or {"command": ["program", "argument", …]}' },
);

const Retention = z
  .object({
    last: z.int().min(1).max(1000).default(1).describe("How many of the newest backups to keep whatever their age; at least 1."),
    daily: z.int().min(0).max(3650).default(7).describe("How many of the last days keep their latest backup."),
    weekly: z.int().min(0).max(520).default(4).describe("How many of the last weeks keep their latest backup."),
    monthly: z.int().min(0).max(1200).default(12).describe("How many of the last months keep their latest backup."),
  })
  .strict();

const MAX_EVERY_HOURS = 30 * 24;
const DEFAULT_OVERDUE_HOURS = 48;

export const BackupConfig = z
  .object({
    repository: BackupRepository,
    password: BackupPassword.describe("Where the repository's password comes from; it is never logged or published."),
    everyHours: z.int().min(1).max(MAX_EVERY_HOURS).default(24).describe("Back up this often, in hours."),
    overdueAfterHours: z
      .int()
      .min(2)
      .max(4 * MAX_EVERY_HOURS)
      .optional()
      .describe("Warn when the last successful backup is older than this, in hours; 48 by default, or twice everyHours when that is longer."),
    keep: Retention.default({ last: 1, daily: 7, weekly: 4, monthly: 12 }).describe("Which backups to keep; a backup any rule keeps stays."),
    preBackupHooks: z
      .array(Argv)
      .max(32)
      .default([])
      .describe("Programs run in the running guest, in order, through its guest agent before its filesystems are frozen (a database dump, say)."),
  })
  .strict()
  .superRefine((backup, context) => {
    if (backup.overdueAfterHours !== undefined && backup.overdueAfterHours <= backup.everyHours) {
      context.addIssue({
        code: "custom",
        path: ["overdueAfterHours"],
        message: `must be longer than everyHours (${backup.everyHours}), or every backup would be overdue before the next one is due`,
      });
    }
  })
  .transform((backup) => ({
    ...backup,
    overdueAfterHours: backup.overdueAfterHours ?? Math.max(DEFAULT_OVERDUE_HOURS, 2 * backup.everyHours),
  }));

export type BackupConfig = z.output<typeof BackupConfig>;
export type BackupPassword = z.output<typeof BackupPassword>;
