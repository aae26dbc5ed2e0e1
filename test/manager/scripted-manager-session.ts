import type { Job } from "../../src/shared/job-api.js";
import type { BuildLogLines } from "../../src/shared/monitoring-api.js";
import type { BackupSnapshot, GenerationEntry } from "../../src/shared/session-api.js";
import type { VpnPeerInfo } from "../../src/shared/vm-api.js";
import type { ManagerSession } from "../../src/manager/manager-model.js";
import { ScriptedSession } from "../bar/scripted-session.js";

// The bar's scripted clan-sessiond plus what the manager window asks of it: VM actions, backups, generations and
// JobChanged. It exists to order replies and signals exactly; the real daemons drive the window in
// test/manager/clan-manager.e2e.test.ts.

export class ScriptedManagerSession extends ScriptedSession implements ManagerSession {
  readonly generationLists = new Map<string, GenerationEntry[]>();
  /** Calls that fail with this message, by method name. */
  readonly refusals = new Map<string, string>();
  readonly buildLogs = new Map<string, string>();
  readonly snapshotLists = new Map<string, BackupSnapshot[]>();
  generationReads = 0;
  buildLogReads = 0;
  snapshotReads = 0;
  readonly peerLists = new Map<string, VpnPeerInfo[]>();
  peerReads = 0;
  private jobListeners = new Set<(job: Job) => void>();
  private buildLogListeners = new Set<(batch: BuildLogLines) => void>();

  start(name: string): Promise<void> {
    return this.answer("Start", name);
  }

  stop(name: string): Promise<void> {
    return this.answer("Stop", name);
  }

  pause(name: string): Promise<void> {
    return this.answer("Pause", name);
  }

  async startBackup(name: string): Promise<string> {
    await this.answer("StartBackup", name);
    return `backup-${name}-1`;
  }

  override async startRollback(name: string, to?: number): Promise<string> {
    await this.answer("StartRollback", name, to);
    return `rollback-${name}-1`;
  }

  async startRestore(name: string, snapshot?: string): Promise<string> {
    await this.answer("StartRestore", name, snapshot);
    return `restore-${name}-1`;
  }

  async buildLog(name: string): Promise<string> {
    this.buildLogReads++;
    return this.buildLogs.get(name) ?? "";
  }

  async backups(name: string): Promise<BackupSnapshot[]> {
    this.snapshotReads++;
    const refusal = this.refusals.get("Backups");
    if (refusal) throw new Error(refusal);
    return this.snapshotLists.get(name) ?? [];
  }

  async peers(name: string): Promise<VpnPeerInfo[]> {
    this.peerReads++;
    return this.peerLists.get(name) ?? [];
  }

  blockPeer(name: string, peer: string): Promise<void> {
    return this.answer("BlockPeer", name, peer);
  }

  unblockPeer(name: string, peer: string): Promise<void> {
    return this.answer("UnblockPeer", name, peer);
  }

  async generations(name: string): Promise<GenerationEntry[]> {
    this.generationReads++;
    return this.generationLists.get(name) ?? [];
  }

  onJobChanged(listener: (job: Job) => void): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  emitJob(job: Job): void {
    for (const listener of this.jobListeners) listener(job);
  }

  onBuildLogChanged(listener: (batch: BuildLogLines) => void): () => void {
    this.buildLogListeners.add(listener);
    return () => this.buildLogListeners.delete(listener);
  }

  emitBuildLog(batch: BuildLogLines): void {
    for (const listener of this.buildLogListeners) listener(batch);
  }

  private async answer(method: string, ...args: unknown[]): Promise<void> {
    const refusal = this.refusals.get(method);
    if (refusal) throw new Error(refusal);
    this.calls.push(`${method}(${args.map((arg) => JSON.stringify(arg)).join(", ")})`);
  }
}
