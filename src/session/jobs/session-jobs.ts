import type { Job, JobKind } from "../../shared/job-api.js";
import { NO_JOB } from "../../shared/session-api.js";
import type { BackupActions } from "../backups/backup-actions.js";
import type { GenerationActions } from "../generations/generation-actions.js";
import type { NetworkRegistry } from "../network-registry.js";
import type { Notify } from "../notifications.js";
import { JobRunner, type JobWork } from "./job-runner.js";

// The long actions as jobs: each start checks at once what would refuse it (so that a caller hears "no backup
// configured" from its call, not from a failed job), then runs in a job whose progress also goes into the
// network's status (jobId, jobKind, jobPhase, jobProgress), so that a bar or a panel needs no second call.

export interface SessionJobsOptions {
  registry: NetworkRegistry;
  generations: GenerationActions;
  backups: BackupActions;
  notify: Notify;
}

export class SessionJobs {
  readonly runner = new JobRunner();

  constructor(private readonly options: SessionJobsOptions) {
    this.runner.on("changed", (job) => this.publishOnNetwork(job.network));
  }

  /** `revision` given: exactly that revision of the source (the one a join confirmed), not the branch as it is now. */
  startRebuild(network: string, revision?: string): Promise<Job> {
    return this.start("rebuild", network, () => this.options.generations.checkRebuild(network), (progress) =>
      this.options.generations.rebuild(network, progress, revision),
    );
  }

  /** `to` undefined: the previous generation. */
  startRollback(network: string, to: number | undefined): Promise<Job> {
    return this.start("rollback", network, () => this.options.generations.checkRollback(network, to), (progress) =>
      this.options.generations.rollback(network, to, progress),
    );
  }

  startBackup(network: string): Promise<Job> {
    return this.start("backup", network, () => this.options.backups.checkBackup(network), async (progress) => {
      const snapshot = await this.options.backups.backupNow(network, progress);
      const result = `stored as snapshot ${snapshot.slice(0, 8)}`;
      // Asked for by the user, so its success is news too (a scheduled backup's is not; failures always are).
      this.options.notify(`${network}: backed up`, result, "normal");
      return result;
    });
  }

  /** `snapshot` "" restores the latest; the job's result is the id of the snapshot restored. */
  startRestore(network: string, snapshot: string): Promise<Job> {
    return this.start("restore", network, () => this.options.backups.checkRestore(network), (progress) =>
      this.options.backups.restore(network, snapshot, progress),
    );
  }

  /** Joins the running job of this kind on the network; otherwise checks, then starts one. */
  private async start(kind: JobKind, network: string, check: () => void | Promise<void>, work: JobWork): Promise<Job> {
    const running = this.runner.running(network).find((job) => job.kind === kind);
    if (running) return running;
    await check();
    return this.runner.start(kind, network, work);
  }

  close(): void {
    this.runner.close();
  }

  private publishOnNetwork(network: string): void {
    if (!this.options.registry.get(network)) return;
    const [current] = this.runner.running(network);
    this.options.registry.update(
      network,
      current ? { jobId: current.id, jobKind: current.kind, jobPhase: current.phase, jobProgress: current.fraction } : NO_JOB,
    );
  }
}
