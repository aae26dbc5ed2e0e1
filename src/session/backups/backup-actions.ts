import { join } from "node:path";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { BACKUP_NOT_CONFIGURED, type BackupSnapshot } from "../../shared/session-api.js";
import type { VmStatus } from "../../shared/vm-api.js";
import type { VmdClient } from "../../shared/vmd-client.js";
import type { BackupConfig } from "../config/backup-schema.js";
import { noProgress, type ProgressReport } from "../jobs/job-runner.js";
import type { NetworkRegistry } from "../network-registry.js";
import type { Notify } from "../notifications.js";
import { BackupRecords, type BackupRecord } from "./backup-records.js";
import { runBackup } from "./backup-run.js";
import { backupState, nextDue, overdueNotificationPending } from "./backup-schedule.js";
import { BackupScheduler, type ScheduledNetwork } from "./backup-scheduler.js";
import { passwordFileWarning, readRepositoryPassword, scrubbingFailures } from "./repository-password.js";
import { Restic } from "./restic.js";
import { restoreStateDisk } from "./state-restore.js";
import { WorkDirectories } from "./work-directory.js";

// Back up now, list backups, restore, and the schedule: every outcome is recorded (backups.json), published in
// the network's status for the bar and GNOME, and a failure or an overdue network is also a notification.

export interface BackupActionsOptions {
  registry: NetworkRegistry;
  vmd: () => VmdClient | undefined;
  /** Keeps the reconciler's hands off the network's VM while a restore stops it and swaps its disk. */
  holdVm: (network: string) => () => void;
  /** Boots the network's current generation. */
  startVm: (network: string) => Promise<VmStatus>;
  /** $XDG_STATE_HOME/clan-desktop */
  stateDir: string;
  notify: Notify;
  log: (message: string) => void;
  now?: () => number;
}



export class BackupActions {
  private records: BackupRecords | undefined;
  private readonly running = new Map<string, Promise<string>>();
  private readonly restoring = new Set<string>();
  /** The password warning last logged per network, so that the log says it when it appears or changes. */
  private readonly loggedWarnings = new Map<string, string>();
  private readonly shutdown = new AbortController();
  private readonly work: WorkDirectories;
  private readonly scheduler: BackupScheduler;
  private readonly now: () => number;

  constructor(private readonly options: BackupActionsOptions) {
    this.now = options.now ?? Date.now;
    this.work = new WorkDirectories(join(options.stateDir, "backup-work"));
    this.scheduler = new BackupScheduler({
      now: this.now,
      networks: () => this.scheduledNetworks(),
      canRun: () => this.options.vmd() !== undefined,
      refresh: (network) => this.refresh(network),
      // backUp records, publishes and notifies every failure; the schedule itself only moves on.
      backUp: (network) => this.backupNow(network).then(() => undefined, () => undefined),
      log: options.log,
    });
  }

  /** Before the first config is applied: reads what earlier runs recorded and removes what crashed ones left. */
  async load(): Promise<void> {
    this.records = await BackupRecords.load(join(this.options.stateDir, "backups.json"), this.options.log);
    const removed = await this.work.removeAbandoned();
    if (removed > 0) this.options.log(`removed ${removed} backup work directories left by an earlier clan-sessiond`);
  }

  /** The config changed or clan-vmd appeared: publish every network's backup state and run what is due. */
  reschedule(): void {
    for (const network of this.options.registry.names()) {
      if (!this.options.registry.config(network)?.backup) this.options.registry.update(network, BACKUP_NOT_CONFIGURED);
    }
    this.scheduler.poke();
  }

  /** Throws what would refuse a backup of `network` at once, before a job is started for it. */
  checkBackup(network: string): void {
    this.backupConfig(network);
    if (this.running.has(network)) return;
    if (this.restoring.has(network)) throw new ClanError("Busy", `${network}'s state disk is being restored`);
    if (!this.options.vmd()) throw new ClanError("Disconnected", "clan-vmd is not running, so no state disk can be copied");
  }

  /** Throws what would refuse a restore of `network` at once, before a job is started for it. */
  checkRestore(network: string): void {
    this.backupConfig(network);
    if (!this.options.vmd()) throw new ClanError("Disconnected", "clan-vmd is not running");
    if (this.running.has(network)) throw new ClanError("Busy", `a backup of ${network} is running; restore once it has finished`);
    if (this.restoring.has(network)) throw new ClanError("Busy", `${network} is already being restored`);
  }

  /** Backs the network up now and resolves with the snapshot's id; a backup already running is joined rather
   *  than started twice (its progress then goes to whoever started it). */
  async backupNow(network: string, progress: ProgressReport = noProgress): Promise<string> {
    const config = this.backupConfig(network);
    const inFlight = this.running.get(network);
    if (inFlight) {
      progress("backing up (already running)");
      return inFlight;
    }
    if (this.restoring.has(network)) throw new ClanError("Busy", `${network}'s state disk is being restored`);
    const vmd = this.options.vmd();
    if (!vmd) throw new ClanError("Disconnected", "clan-vmd is not running, so no state disk can be copied");
    const run = this.performBackup(network, config, vmd, progress).finally(() => {
      this.running.delete(network);
      return this.refresh(network);
    });
    this.running.set(network, run);
    this.refresh(network).catch((error: unknown) => this.options.log(`${network}: cannot publish the backup state: ${errorMessage(error)}`));
    return run;
  }

  /** The network's snapshots, oldest first, with the size of each state disk image. */
  async snapshots(network: string): Promise<BackupSnapshot[]> {
    const config = this.backupConfig(network);
    const password = await readRepositoryPassword(config.password);
    const restic = new Restic(config.repository, network, password, this.shutdown.signal);
    const listed = await scrubbingFailures(password, () => restic.snapshots());
    const known = (await this.requireRecords().ensure(network, this.now())).snapshotSizes;
    const sizes: Record<string, number> = {};
    const result: BackupSnapshot[] = [];
    for (const snapshot of listed) {
      const cachedKey = Object.keys(known).find((key) => snapshot.id.startsWith(key));
      const size = cachedKey !== undefined ? known[cachedKey]! : await scrubbingFailures(password, () => restic.snapshotSize(snapshot.id));
      sizes[snapshot.id] = size;
      result.push({ id: snapshot.id, time: snapshot.time, size });
    }
    await this.requireRecords().update(network, this.now(), { snapshotSizes: sizes });
    return result;
  }

  /** Restores snapshot `snapshot` ("" for the latest) and returns its id. */
  async restore(network: string, snapshot: string, progress: ProgressReport = noProgress): Promise<string> {
    this.checkRestore(network);
    const config = this.backupConfig(network);
    const vmd = this.options.vmd();
    if (!vmd) throw new ClanError("Disconnected", "clan-vmd is not running");
    this.restoring.add(network);
    const release = this.options.holdVm(network);
    try {
      const restored = await restoreStateDisk({
        network,
        config,
        snapshot,
        vmd,
        work: this.work,
        cancelSignal: this.shutdown.signal,
        startVm: () => this.options.startVm(network),
        published: (status) => this.options.registry.applyVmStatus(status),
        progress,
      });
      this.options.registry.update(network, { error: "" });
      const when = new Date(restored.time).toISOString();
      this.options.log(`${network}: restored backup ${restored.id.slice(0, 8)} of ${when}`);
      this.options.notify(`${network}: restored`, `the state of ${when} (backup ${restored.id.slice(0, 8)}) is back`, "normal");
      return restored.id;
    } catch (error) {
      this.options.registry.update(network, { error: errorMessage(error) });
      this.options.notify(`${network}: restore failed`, errorMessage(error), "critical");
      throw error;
    } finally {
      release();
      this.restoring.delete(network);
    }
  }

  isRestoring(network: string): boolean {
    return this.restoring.has(network);
  }

  close(): void {
    this.scheduler.close();
    this.shutdown.abort();
  }

  private async performBackup(network: string, config: BackupConfig, vmd: VmdClient, progress: ProgressReport): Promise<string> {
    const records = this.requireRecords();
    const started = this.now();
    const { log, notify } = this.options;
    try {
      const outcome = await runBackup({ network, config, vmd, work: this.work, cancelSignal: this.shutdown.signal, log, progress });
      const previous = await records.ensure(network, started);
      await records.update(network, this.now(), {
        lastAttempt: started,
        lastSuccess: started,
        lastError: outcome.warning ?? "",
        repository: config.repository,
        repositorySize: outcome.repositorySize,
        freeSpace: outcome.freeSpace,
        snapshotSizes: { ...previous.snapshotSizes, [outcome.snapshotId]: outcome.imageBytes },
      });
      const how = outcome.snapshot.method === "freeze" ? `${outcome.snapshot.frozenFilesystems} filesystems frozen` : `VM ${outcome.snapshot.method}`;
      log(`${network}: backed up as snapshot ${outcome.snapshotId} (${outcome.imageBytes} bytes, ${how}, ${outcome.snapshot.hooksRun} hooks)`);
      if (outcome.warning) notify(`${network}: backup incomplete`, outcome.warning, "critical");
      return outcome.snapshotId;
    } catch (error) {
      if (this.shutdown.signal.aborted) throw error;
      const message = errorMessage(error);
      await records.update(network, this.now(), { lastAttempt: started, lastError: message });
      log(`${network}: backup failed: ${message}`);
      notify(`${network}: backup failed`, message, "critical");
      throw error;
    }
  }

  /** Publishes the network's backup state as of now; tells the user once when it becomes overdue. */
  private async refresh(network: string): Promise<void> {
    const config = this.options.registry.config(network)?.backup;
    if (!config) {
      this.options.registry.update(network, BACKUP_NOT_CONFIGURED);
      return;
    }
    const now = this.now();
    const record = await this.requireRecords().ensure(network, now);
    const sameRepository = record.repository === config.repository;
    const warning = await passwordFileWarning(config.password);
    if (warning !== (this.loggedWarnings.get(network) ?? "")) {
      if (warning) this.options.log(`${network}: WARNING: ${warning}`);
      this.loggedWarnings.set(network, warning);
    }
    this.options.registry.update(network, {
      backupState: backupState(record, config, now, this.running.has(network)),
      backupLastSuccess: record.lastSuccess ?? 0,
      backupLastAttempt: record.lastAttempt ?? 0,
      backupError: record.lastError,
      backupWarning: warning,
      backupNextDue: nextDue(record, config),
      backupRepositorySize: (sameRepository ? record.repositorySize : undefined) ?? -1,
      backupFreeSpace: (sameRepository ? record.freeSpace : undefined) ?? -1,
    });
    if (overdueNotificationPending(record, config, now)) await this.notifyOverdue(network, record);
  }

  private async notifyOverdue(network: string, record: BackupRecord): Promise<void> {
    const since = record.lastSuccess === undefined ? "it has never been backed up" : `its last backup is from ${new Date(record.lastSuccess).toISOString()}`;
    const why = record.lastError ? `; the last attempt failed: ${record.lastError}` : "";
    this.options.notify(`${network}: backup overdue`, `${since}${why}`, "critical");
    await this.requireRecords().update(network, this.now(), { overdueNotifiedFor: record.lastSuccess ?? 0 });
  }

  private async scheduledNetworks(): Promise<ScheduledNetwork[]> {
    const scheduled: ScheduledNetwork[] = [];
    for (const network of this.options.registry.names()) {
      const timing = this.options.registry.config(network)?.backup;
      if (timing) scheduled.push({ network, timing, record: await this.requireRecords().ensure(network, this.now()) });
    }
    return scheduled;
  }

  private backupConfig(network: string): BackupConfig {
    const config = this.options.registry.config(network);
    if (!config) throw new ClanError("UnknownNetwork", `no network named ${network} in the config`);
    if (!config.backup) throw new ClanError("InvalidArgument", `${network} has no backup configured (see "backup" in docs/config.md)`);
    return config.backup;
  }

  private requireRecords(): BackupRecords {
    if (!this.records) throw new ClanError("InvalidState", "backup records are not loaded yet");
    return this.records;
  }
}
