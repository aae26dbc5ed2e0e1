import { ClanError } from "../shared/errors.js";
import { JOB_VERBS, type Job } from "../shared/job-api.js";
import type { SessionClient } from "../shared/session-client.js";

// How clanctl waits for a job: it listens to JobChanged before starting it (so no step is missed), then shows
// each change — on a terminal as one line rewritten in place, elsewhere as a line per new phase — and ends with
// the job: its result, or a ClanError carrying the job's error (clanctl then exits 1).

export interface FollowOutput {
  isTTY: boolean;
  write(text: string): void;
}

/** Progress goes to stderr, so that stdout carries only the outcome. */
export const stderrOutput: FollowOutput = { isTTY: process.stderr.isTTY === true, write: (text) => void process.stderr.write(text) };

/** Starts a job with `start`, follows it to its end and resolves with the ended job; rejects when it failed. */
export async function followJob(session: SessionClient, start: () => Promise<string>, output: FollowOutput): Promise<Job> {
  const changes: Job[] = [];
  let wake: (() => void) | undefined;
  let invalid: Error | undefined;
  let vanished = false;
  const stop = session.onJobChanged(
    (job) => {
      changes.push(job);
      wake?.();
    },
    (error) => {
      invalid = error;
      wake?.();
    },
  );
  const display = new ProgressLine(output);
  await session.onVanished(() => {
    vanished = true;
    wake?.();
  });
  try {
    const id = await start();
    // A job that ended before the subscription saw anything (or one that was joined) is read once.
    changes.push(await session.getJob(id));
    for (;;) {
      if (invalid) throw new ClanError("Protocol", `clan-sessiond sent an invalid JobChanged: ${invalid.message}`);
      if (vanished) throw new ClanError("Disconnected", "clan-sessiond left the bus before the job ended; its outcome is unknown");
      const job = changes.filter((change) => change.id === id).at(-1);
      changes.length = 0;
      if (job) {
        display.show(job);
        if (job.state !== "running") {
          display.end();
          if (job.state === "failed") {
            const code = job.kind === "backup" || job.kind === "restore" ? "BackupFailed" : "BuildFailed";
            throw new ClanError(code, `${job.kind} of ${job.network} failed: ${job.error}`);
          }
          return job;
        }
      }
      await new Promise<void>((resolve) => {
        if (changes.length > 0 || invalid || vanished) resolve();
        else wake = resolve;
      });
    }
  } finally {
    stop();
    display.end();
  }
}

class ProgressLine {
  private lastPlain = "";
  private open = false;

  constructor(private readonly output: FollowOutput) {}

  show(job: Job): void {
    const percent = job.fraction >= 0 && job.state === "running" ? ` ${Math.round(job.fraction * 100)}%` : "";
    const text = `${job.network}: ${JOB_VERBS[job.kind]} — ${job.phase}${percent}`;
    if (this.output.isTTY) {
      if (job.state !== "running") return;
      this.output.write(`\r\x1b[K${text}`);
      this.open = true;
      return;
    }
    // Not a terminal: one line per phase, not per percent.
    const plain = `${job.network}: ${JOB_VERBS[job.kind]} — ${job.phase}`;
    if (job.state === "running" && plain !== this.lastPlain) {
      this.output.write(`${plain}\n`);
      this.lastPlain = plain;
    }
  }

  end(): void {
    if (!this.open) return;
    this.output.write("\r\x1b[K");
    this.open = false;
  }
}
