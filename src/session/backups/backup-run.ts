import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../../shared/errors.js";
import type { SnapshotReport } from "../../shared/vm-api.js";
import type { VmdClient } from "../../shared/vmd-client.js";
import type { ProgressReport } from "../jobs/job-runner.js";
import type { BackupConfig } from "../config/backup-schema.js";
import { readRepositoryPassword, scrubbingFailures } from "./repository-password.js";
import { Restic, SNAPSHOT_FILE } from "./restic.js";
import type { WorkDirectories } from "./work-directory.js";

// One backup of one network: make sure the repository opens (before the guest is touched, so a broken repository
// never freezes anything), let clan-vmd write a consistent copy of the state disk — it runs the pre-backup hooks,
// freezes and thaws the guest, whatever happens — then hand the copy to restic, apply the retention and measure
// the repository. The copy is removed in every case.

export interface BackupJob {
  network: string;
  config: BackupConfig;
  vmd: VmdClient;
  work: WorkDirectories;
  cancelSignal: AbortSignal;
  log: (message: string) => void;
  progress: ProgressReport;
}

export interface BackupOutcome {
  snapshotId: string;
  /** Bytes of the state disk image in the snapshot. */
  imageBytes: number;
  snapshot: SnapshotReport;
  /** Set when the snapshot was stored but its aftermath (retention) failed: the data is safe, the user must know. */
  warning?: string;
  repositorySize?: number;
  freeSpace?: number;
}

export async function runBackup(job: BackupJob): Promise<BackupOutcome> {
  const password = await readRepositoryPassword(job.config.password);
  return scrubbingFailures(password, () => backUpWith(new Restic(job.config.repository, job.network, password, job.cancelSignal), job));
}

async function backUpWith(restic: Restic, { network, config, vmd, work, log, progress }: BackupJob): Promise<BackupOutcome> {
  progress("opening the repository");
  if (await restic.initializeIfMissing()) log(`${network}: created a new restic repository at ${config.repository}`);
  const directory = await work.create(`backup-${network}`);
  try {
    progress(config.preBackupHooks.length > 0 ? "running the pre-backup hooks and copying the state disk" : "copying the state disk");
    const snapshot = await vmd.snapshotState(network, join(directory, SNAPSHOT_FILE), config.preBackupHooks);
    progress("storing the copy in the repository", 0);
    const summary = await restic.backup(directory, (fraction) => progress("storing the copy in the repository", fraction));
    await work.remove(directory);
    const outcome: BackupOutcome = { snapshotId: summary.snapshot_id, imageBytes: summary.total_bytes_processed, snapshot };
    progress("applying the retention");
    try {
      await restic.forget(config.keep);
    } catch (error) {
      outcome.warning = `backed up, but applying the retention failed: ${errorMessage(error)}`;
    }
    outcome.repositorySize = await restic.repositorySize().catch((error: unknown) => {
      log(`${network}: cannot measure the backup repository: ${errorMessage(error)}`);
      return undefined;
    });
    outcome.freeSpace = await freeSpaceAt(config.repository).catch((error: unknown) => {
      log(`${network}: cannot measure the free space at ${config.repository}: ${errorMessage(error)}`);
      return undefined;
    });
    return outcome;
  } finally {
    await work.remove(directory);
  }
}

/** Bytes available to this user where a local repository lives; undefined for sftp and REST repositories. */
async function freeSpaceAt(repository: string): Promise<number | undefined> {
  if (!repository.startsWith("/")) return undefined;
  const stats = await statfs(repository);
  return stats.bavail * stats.bsize;
}
