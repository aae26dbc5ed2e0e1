import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ClanError, errorMessage, type ErrorCode } from "../../shared/errors.js";
import type { VmStatus } from "../../shared/vm-api.js";
import type { VmdClient } from "../../shared/vmd-client.js";
import type { ProgressReport } from "../jobs/job-runner.js";
import type { BackupConfig } from "../config/backup-schema.js";
import { readRepositoryPassword, scrubbingFailures } from "./repository-password.js";
import { Restic, SNAPSHOT_FILE, type SnapshotListing } from "./restic.js";
import type { WorkDirectories } from "./work-directory.js";

// Restoring a network's state disk from a snapshot. The snapshot is downloaded while the VM still runs, so the VM
// is down only for the swap; clan-vmd's ReplaceStateDisk checks the image and swaps it in by rename, keeping the
// old disk as state.qcow2.previous. A failure at any step leaves the old disk in place, starts the VM again if it
// was up, and names the step.

export interface RestoreJob {
  network: string;
  config: BackupConfig;
  /** A snapshot id or a unique prefix of at least 8 hex digits; "" for the latest. */
  snapshot: string;
  vmd: VmdClient;
  work: WorkDirectories;
  cancelSignal: AbortSignal;
  /** Boots the network's current generation. */
  startVm: () => Promise<VmStatus>;
  published: (status: VmStatus) => void;
  /** Told each step as it begins. */
  progress: ProgressReport;
}

export async function restoreStateDisk(job: RestoreJob): Promise<SnapshotListing> {
  const password = await readRepositoryPassword(job.config.password);
  return scrubbingFailures(password, () => restoreWith(new Restic(job.config.repository, job.network, password, job.cancelSignal), job));
}

async function restoreWith(restic: Restic, job: RestoreJob): Promise<SnapshotListing> {
  const { network, vmd } = job;
  const step = <T>(name: string, body: () => Promise<T>, state?: string) => {
    job.progress(name);
    return failingAs(name, body, state);
  };
  const chosen = await step("find the snapshot", async () => chooseSnapshot(await restic.snapshots(), job.snapshot, network));
  const directory = await job.work.create(`restore-${network}`);
  try {
    const image = join(directory, SNAPSHOT_FILE);
    await step("download the snapshot", async () => {
      await restic.restore(chosen.id, directory);
      if (!(await stat(image).catch(() => undefined))) throw new ClanError("NotFound", `snapshot ${chosen.id.slice(0, 8)} holds no ${SNAPSHOT_FILE}`);
    });
    const before = (await vmd.list()).find((vm) => vm.network === network)?.state ?? "stopped";
    const wasUp = before === "running" || before === "paused" || before === "starting";
    if (before !== "stopped" && before !== "failed") await step("stop the VM", async () => job.published(await vmd.stop(network)));
    try {
      await step("replace the state disk", () => vmd.replaceStateDisk(network, image));
    } catch (error) {
      if (!wasUp) throw error;
      await restartAfterFailure(job, error);
      throw new ClanError(codeOf(error), `${errorMessage(error)}; the VM runs again on it`);
    }
    if (wasUp) {
      await step("start the VM on the restored disk", async () => job.published(await job.startVm()), "the restored disk is in place; the old one is state.qcow2.previous");
    }
    return chosen;
  } finally {
    await job.work.remove(directory);
  }
}

function chooseSnapshot(snapshots: SnapshotListing[], wanted: string, network: string): SnapshotListing {
  if (wanted === "") {
    const latest = snapshots.at(-1);
    if (!latest) throw new ClanError("NotFound", `${network} has no backup to restore`);
    return latest;
  }
  if (!/^[0-9a-f]{8,64}$/.test(wanted)) throw new ClanError("InvalidArgument", "a snapshot is named by 8 to 64 hex digits of its id");
  const matches = snapshots.filter((snapshot) => snapshot.id.startsWith(wanted));
  if (matches.length === 0) throw new ClanError("NotFound", `${network} has no backup ${wanted} (clanctl backups ${network} lists them)`);
  if (matches.length > 1) throw new ClanError("InvalidArgument", `${wanted} names ${matches.length} backups of ${network}; give more of its id`);
  return matches[0]!;
}

async function restartAfterFailure(job: RestoreJob, cause: unknown): Promise<void> {
  try {
    job.published(await job.startVm());
  } catch (error) {
    throw new ClanError(codeOf(cause), `${errorMessage(cause)}; starting the VM again on its old disk also failed: ${errorMessage(error)}`);
  }
}

async function failingAs<T>(name: string, body: () => Promise<T>, state = "the previous state disk is kept"): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw new ClanError(codeOf(error), `restore failed at "${name}" (${state}): ${errorMessage(error)}`, { cause: error });
  }
}

function codeOf(error: unknown): ErrorCode {
  return error instanceof ClanError ? error.code : "BackupFailed";
}
