import { loadExeca } from "../../shared/lazy-execa.js";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import type { RepositoryPassword } from "./repository-password.js";

// restic (Debian's package, 0.14) as clan-sessiond uses it: one repository, one password, every command's JSON
// output checked by a schema. Snapshots are made with host "clan-desktop" and a tag per network, so that one
// repository can hold several networks and each network's listing, retention and "latest" see only its own.
// The password goes in on stdin (see repository-password.ts), and restic's own RESTIC_* variables are removed
// from its environment: a RESTIC_PASSWORD_FILE in the user's environment would otherwise win over stdin.

const SNAPSHOT_HOST = "clan-desktop";
/** The name of the state disk inside every snapshot, at the snapshot's root. */
export const SNAPSHOT_FILE = "state.qcow2";

export interface Retention {
  last: number;
  daily: number;
  weekly: number;
  monthly: number;
}

const BackupSummary = z.looseObject({
  message_type: z.literal("summary"),
  snapshot_id: z.string().regex(/^[0-9a-f]{8,64}$/),
  total_bytes_processed: z.number().nonnegative(),
  data_added: z.number().nonnegative(),
});
export type BackupSummary = z.infer<typeof BackupSummary>;

const BackupStatus = z.looseObject({ message_type: z.literal("status"), percent_done: z.number().min(0).max(1) });

const ResticSnapshot = z.looseObject({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  time: z.string().refine((time) => !Number.isNaN(Date.parse(time)), "must be a date"),
  tags: z.array(z.string()).nullish(),
});
export interface SnapshotListing {
  id: string;
  time: number;
}

const Stats = z.looseObject({ total_size: z.number().nonnegative() });

export class Restic {
  private readonly tag: string;

  constructor(
    private readonly repository: string,
    network: string,
    private readonly password: RepositoryPassword,
    private readonly cancelSignal?: AbortSignal,
  ) {
    this.tag = `network:${network}`;
  }

  /** Creates the repository when there is none yet; returns whether it did. Any other problem is thrown. */
  async initializeIfMissing(): Promise<boolean> {
    const probe = await this.run(["cat", "config"], { allowFailure: true });
    if (probe.ok) return false;
    // restic 0.14 has no exit code for "no repository": its local, sftp and REST backends all say one of these.
    if (!/unable to open config file[\s\S]*(no such file or directory|does not exist)/i.test(probe.stderr)) {
      throw new ClanError("BackupFailed", `cannot open the backup repository ${this.repository}: ${this.password.scrub(essentialLines(probe.stderr))}`);
    }
    await this.run(["init"]);
    return true;
  }

  /** Backs up `SNAPSHOT_FILE` from `directory`, so that the snapshot holds it at its root whatever the directory;
   *  `progress` hears the fraction done from restic's status lines. */
  async backup(directory: string, progress: (fraction: number) => void = () => undefined): Promise<BackupSummary> {
    const onLine = (line: string) => {
      const status = BackupStatus.safeParse(parseJsonOrUndefined(line));
      if (status.success) progress(status.data.percent_done);
    };
    const { stdout } = await this.run(["backup", "--json", "--host", SNAPSHOT_HOST, "--tag", this.tag, SNAPSHOT_FILE], { cwd: directory, onLine });
    const summary = stdout
      .split("\n")
      .filter((line) => line.includes('"summary"'))
      .map((line) => BackupSummary.safeParse(parseJson(line, "restic backup")))
      .find((parsed) => parsed.success)?.data;
    if (!summary) throw new ClanError("Protocol", `restic backup printed no summary: ${this.password.scrub(stdout.slice(-300))}`);
    return summary;
  }

  /** Applies the retention to this network's snapshots. Grouped by host and tags, not restic's default host and
   *  paths: each backup's path is a fresh work directory. */
  async forget(keep: Retention): Promise<void> {
    await this.run([
      "forget", ...this.filter(), "--group-by", "host,tags", "--keep-last", String(keep.last),
      "--keep-daily", String(keep.daily), "--keep-weekly", String(keep.weekly), "--keep-monthly", String(keep.monthly), "--prune",
    ]);
  }

  /** This network's snapshots, oldest first. */
  async snapshots(): Promise<SnapshotListing[]> {
    const { stdout } = await this.run(["snapshots", "--json", ...this.filter()]);
    const parsed = z.array(ResticSnapshot).safeParse(parseJson(stdout, "restic snapshots"));
    if (!parsed.success) throw new ClanError("Protocol", `restic snapshots printed unexpected JSON: ${parsed.error.issues[0]?.message}`);
    return parsed.data.map((snapshot) => ({ id: snapshot.id, time: Date.parse(snapshot.time) })).sort((a, b) => a.time - b.time);
  }

  /** Bytes the whole repository stores (every network's snapshots, deduplicated). */
  async repositorySize(): Promise<number> {
    return this.stats(["--mode", "raw-data"]);
  }

  /** Bytes of the files one snapshot holds: the state disk image. */
  async snapshotSize(id: string): Promise<number> {
    return this.stats(["--mode", "restore-size", id]);
  }

  /** Writes snapshot `id`'s state disk to `directory`/`SNAPSHOT_FILE`. */
  async restore(id: string, directory: string): Promise<void> {
    await this.run(["restore", id, "--target", directory, "--include", `/${SNAPSHOT_FILE}`]);
  }

  private async stats(args: string[]): Promise<number> {
    const { stdout } = await this.run(["stats", "--json", ...args]);
    const parsed = Stats.safeParse(parseJson(stdout, "restic stats"));
    if (!parsed.success) throw new ClanError("Protocol", `restic stats printed unexpected JSON: ${parsed.error.issues[0]?.message}`);
    return parsed.data.total_size;
  }

  private filter(): string[] {
    return ["--host", SNAPSHOT_HOST, "--tag", this.tag];
  }

  /** With `onLine`, restic is not --quiet, so that it prints its progress (twice a second), and each line of its
   *  stdout is handed over as it comes. */
  private async run(
    args: string[],
    options: { cwd?: string; allowFailure?: boolean; onLine?: (line: string) => void } = {},
  ): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    // --quiet: otherwise restic says on stdout that it reads the password from stdin, ahead of the JSON.
    const quiet = options.onLine ? [] : ["--quiet"];
    const subprocess = (await loadExeca())("restic", ["--repo", this.repository, ...quiet, ...args], {
      input: `${this.password.text}\n`,
      env: { ...resticEnvironment(), ...(options.onLine ? { RESTIC_PROGRESS_FPS: "2" } : {}) },
      extendEnv: false,
      cwd: options.cwd,
      reject: false,
      cancelSignal: this.cancelSignal,
      // SIGINT lets restic remove its lock from the repository before it exits.
      killSignal: "SIGINT",
      forceKillAfterDelay: 10_000,
    });
    const { onLine } = options;
    if (onLine) {
      let pending = "";
      subprocess.stdout?.on("data", (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) onLine(line);
      });
    }
    const result = await subprocess;
    if (result.isCanceled) throw new ClanError("Busy", `restic ${args[0]} was interrupted: clan-sessiond is shutting down`);
    if (!result.failed) return { ok: true, stdout: result.stdout, stderr: result.stderr };
    // No exit code: restic did not start (not installed) or was killed; execa's message says which.
    if (result.exitCode === undefined) throw new ClanError("BackupFailed", this.password.scrub(result.shortMessage ?? `restic ${args[0]} failed`));
    if (options.allowFailure) return { ok: false, stdout: result.stdout, stderr: result.stderr };
    throw this.failure(args[0]!, result.stderr);
  }

  private failure(command: string, stderr: string): ClanError {
    return new ClanError("BackupFailed", `restic ${command} failed: ${this.password.scrub(essentialLines(stderr))}`);
  }
}

/** What went wrong, from restic's stderr: its "Fatal: …" line, or else its error without the chatter around it.
 *  restic prints an error that is not fatal as the cause, a Go stack trace (a function line, then a tab-indented
 *  file:line), and what it was doing, so what remains is read backwards: "doing: cause". */
export function essentialLines(stderr: string): string {
  const lines = stderr.split("\n");
  const fatal = lines.find((line) => line.startsWith("Fatal: "));
  const kept = fatal
    ? [fatal.slice("Fatal: ".length)]
    : lines
        .filter((line, index) => !line.startsWith("\t") && !lines[index + 1]?.startsWith("\t"))
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.includes("returned error, retrying after") && !line.startsWith("reading repository password"))
        .slice(-3)
        .reverse();
  const text = kept.join(": ");
  return text.length > 600 ? `${text.slice(0, 600)}…` : text || "no message";
}

function resticEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith("RESTIC_")));
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ClanError("Protocol", `${what} printed something other than JSON (${text.length} characters)`);
  }
}
