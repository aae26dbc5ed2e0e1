import { EventEmitter } from "node:events";
import { ClanError, errorMessage } from "../shared/errors.js";
import type { Job } from "../shared/job-api.js";
import type { BuildLogLines } from "../shared/monitoring-api.js";
import type { BackupSnapshot, GenerationEntry, NetworkStatus } from "../shared/session-api.js";
import type { VpnPeerInfo } from "../shared/vm-api.js";
import type { SessionFeed, SessionLink } from "../bar/session-feed.js";
import { hasBackup, networkDetail, networkRows, type NetworkDetail, type NetworkRow } from "./network-presentation.js";
import { NetworkRead } from "./network-read.js";
import { vpnReadKey, vpnSection, type VpnSection } from "./vpn-presentation.js";

// The manager window's state, without GTK: which networks exist and how they are (from the bar's SessionFeed,
// which follows clan-sessiond's bus name and NetworkChanged), which one the user selected, that network's
// generations, build log, backup snapshots and VPN peers, and the jobs the window saw. Every change is announced once with "changed"; the widgets then
// redraw from view(). Actions go to clan-sessiond and their refusals become a notice on the network.

/** What the manager needs of clan-sessiond (SessionClient has it). */
export interface ManagerSession extends SessionLink {
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  pause(name: string): Promise<void>;
  startRebuild(name: string): Promise<string>;
  startRollback(name: string, to?: number): Promise<string>;
  startBackup(name: string): Promise<string>;
  startRestore(name: string, snapshot?: string): Promise<string>;
  generations(name: string): Promise<GenerationEntry[]>;
  buildLog(name: string): Promise<string>;
  backups(name: string): Promise<BackupSnapshot[]>;
  peers(name: string): Promise<VpnPeerInfo[]>;
  blockPeer(name: string, peer: string): Promise<void>;
  unblockPeer(name: string, peer: string): Promise<void>;
  onJobChanged(listener: (job: Job) => void, onInvalid: (error: Error) => void): () => void;
  onBuildLogChanged(listener: (batch: BuildLogLines) => void, onInvalid: (error: Error) => void): () => void;
}

export type ManagerView =
  | { kind: "sessiond-missing" }
  | { kind: "networks"; rows: NetworkRow[]; selected: string | undefined; detail: NetworkDetail | undefined; vpn: VpnSection | undefined };

export interface ManagerModelEvents {
  changed: [];
}

export type VmAction = "start" | "stop" | "pause";
const ACTION_TITLES: Readonly<Record<VmAction | "rebuild" | "rollback" | "backup" | "restore" | "block" | "unblock", string>> = {
  start: "Start",
  stop: "Stop",
  pause: "Pause",
  rebuild: "Rebuild",
  rollback: "Roll back",
  backup: "Back up",
  restore: "Restore",
  block: "Block",
  unblock: "Unblock",
};

export interface ManagerModelOptions {
  report(message: string): void;
  now(): number;
}

/** BuildLog keeps this many lines; the window's copy, grown by BuildLogChanged, keeps as many. */
const BUILD_LOG_LINES = 400;

export class ManagerModel extends EventEmitter<ManagerModelEvents> {
  private selectedName: string | undefined;
  private generations: { network: string; list: GenerationEntry[] } | undefined;
  private readonly lastJobs = new Map<string, Job>();
  private readonly notices = new Map<string, string>();
  private followed: ManagerSession | undefined;
  private stopFollowingJobs: (() => void) | undefined;
  /** Counts generation reads; a reply to an older one is dropped. */
  private generationRead = 0;
  /** The network's published generation when its list was last read: when that changes, the list is read again. */
  private generationsReadAt: { network: string; generation: string } | undefined;
  /** The build log: read when the network is chosen and at each step of a rebuild, grown by BuildLogChanged between. */
  private readonly buildLog = new NetworkRead<string>((name) => this.session().buildLog(name), () => this.changed());
  private readonly snapshots = new NetworkRead<BackupSnapshot[]>((name) => this.session().backups(name), () => this.changed());
  /** The network's last backup success when its snapshots were last read: a newer one re-reads them. */
  private snapshotsReadAt: { network: string; lastSuccess: number } | undefined;
  private readonly peers = new NetworkRead<VpnPeerInfo[]>((name) => this.session().peers(name), () => this.changed());
  /** The network's VPN status when its peers were last read: a change (a handshake, a peer more) re-reads them. */
  private peersReadAt: { network: string; key: string } | undefined;
  private stopFollowingLogLines: (() => void) | undefined;

  constructor(
    private readonly feed: SessionFeed<ManagerSession>,
    private readonly options: ManagerModelOptions,
  ) {
    super();
    feed.on("state", () => this.feedChanged());
  }

  view(): ManagerView {
    const state = this.feed.state;
    if (state.kind === "sessiond-missing") return { kind: "sessiond-missing" };
    const status = state.networks.find((network) => network.name === this.selectedName);
    const detail = status
      ? networkDetail(status, {
          generations: this.generations?.network === status.name ? this.generations.list : [],
          lastJob: this.lastJobs.get(status.name),
          notice: this.notices.get(status.name) ?? "",
          buildLog: this.buildLog.of(status.name),
          snapshots: this.snapshots.of(status.name),
          now: this.options.now(),
        })
      : undefined;
    const vpn = status ? vpnSection(status, this.peers.of(status.name), this.options.now()) : undefined;
    return { kind: "networks", rows: networkRows(state.networks), selected: status?.name, detail, vpn };
  }

  select(name: string | undefined): void {
    if (name === this.selectedName) return;
    this.selectedName = name;
    this.generations = undefined;
    this.generationsReadAt = undefined;
    this.buildLog.forget();
    this.snapshots.forget();
    this.snapshotsReadAt = undefined;
    this.peers.forget();
    this.peersReadAt = undefined;
    if (name !== undefined) {
      this.readGenerations(name);
      this.readSelected(name);
    }
    this.changed();
  }

  vmAction(name: string, action: VmAction): void {
    this.call(name, action, (session) => session[action](name));
  }

  rebuild(name: string): void {
    this.call(name, "rebuild", (session) => session.startRebuild(name));
  }

  rollback(name: string, to: number): void {
    this.call(name, "rollback", (session) => session.startRollback(name, to));
  }

  backUp(name: string): void {
    this.call(name, "backup", (session) => session.startBackup(name));
  }

  /** Starts restoring `snapshot` (an id or a unique prefix) into the network's state disk; the user confirmed it. */
  restore(name: string, snapshot: string): void {
    this.call(name, "restore", (session) => session.startRestore(name, snapshot));
  }

  /** Blocks (or lets back) one of the network's VPN peers; its row shows the result once clan-vmd applied it. */
  setPeerBlocked(name: string, peer: string, blocked: boolean): void {
    this.call(name, blocked ? "block" : "unblock", async (session) => {
      await (blocked ? session.blockPeer(name, peer) : session.unblockPeer(name, peer));
      if (name === this.selectedName) this.peers.refresh(name);
    });
  }

  close(): void {
    this.stopFollowingLogLines?.();
    this.stopFollowingJobs?.();
    this.feed.close();
  }

  private call(name: string, action: keyof typeof ACTION_TITLES, run: (session: ManagerSession) => Promise<unknown>): void {
    const session = this.feed.session;
    this.notices.delete(name);
    if (!session) {
      this.notices.set(name, `${ACTION_TITLES[action]}: clan-sessiond is not running`);
      this.changed();
      return;
    }
    this.changed();
    run(session).catch((error: unknown) => {
      this.notices.set(name, `${ACTION_TITLES[action]} failed: ${errorMessage(error)}`);
      this.changed();
    });
  }

  private feedChanged(): void {
    const session = this.feed.session;
    if (session !== this.followed) this.followJobs(session);
    // A generation that changed under the window (a rollback, a rebuild, another client's) re-reads the list.
    const status = this.selectedName === undefined ? undefined : this.statusOf(this.selectedName);
    if (status && (this.generationsReadAt?.network !== status.name || this.generationsReadAt.generation !== status.generation)) {
      this.readGenerations(status.name);
    }
    if (status) this.readSelected(status.name, status);
    this.changed();
  }

  /** Reads what changed of the selected network's build log and snapshots (all of it for a newly chosen network). */
  private readSelected(name: string, status = this.statusOf(name)): void {
    if (!this.feed.session || !status) return;
    if (this.buildLog.of(name) === undefined && !this.buildLog.isReading(name)) this.buildLog.refresh(name);
    if (hasBackup(status) && (this.snapshotsReadAt?.network !== name || this.snapshotsReadAt.lastSuccess !== status.backupLastSuccess)) {
      this.snapshotsReadAt = { network: name, lastSuccess: status.backupLastSuccess };
      this.snapshots.refresh(name);
    }
    if (status.vpnState !== "none" && (this.peersReadAt?.network !== name || this.peersReadAt.key !== vpnReadKey(status))) {
      this.peersReadAt = { network: name, key: vpnReadKey(status) };
      this.peers.refresh(name);
    }
  }

  /**
   * New lines of a build (BuildLogChanged): appended to the log read last. A batch that arrives while a read is
   * under way is in that read's reply already (clan-sessiond sends the lines waiting before it answers BuildLog).
   */
  private buildLogLines(batch: BuildLogLines): void {
    if (batch.network !== this.selectedName || this.buildLog.isReading(batch.network)) return;
    const amended = this.buildLog.amend(batch.network, (log) => {
      const lines = [...(batch.first || log === "" ? [] : log.split("\n")), ...batch.lines];
      return lines.slice(-BUILD_LOG_LINES).join("\n");
    });
    if (amended) this.changed();
  }

  private session(): ManagerSession {
    const session = this.feed.session;
    if (!session) throw new ClanError("InvalidState", "clan-sessiond is not running");
    return session;
  }

  private followJobs(session: ManagerSession | undefined): void {
    this.stopFollowingJobs?.();
    this.stopFollowingJobs = undefined;
    this.stopFollowingLogLines?.();
    this.stopFollowingLogLines = undefined;
    this.followed = session;
    // A clan-sessiond that came back may have changed anything: the lists are read again from it.
    this.generationsReadAt = undefined;
    this.snapshotsReadAt = undefined;
    this.peersReadAt = undefined;
    this.buildLog.forget();
    if (!session) return;
    this.stopFollowingJobs = session.onJobChanged(
      (job) => this.jobChanged(job),
      (error) => this.options.report(`ignoring a malformed JobChanged signal: ${error.message}`),
    );
    this.stopFollowingLogLines = session.onBuildLogChanged(
      (batch) => this.buildLogLines(batch),
      (error) => this.options.report(`ignoring a malformed BuildLogChanged signal: ${error.message}`),
    );
  }

  private jobChanged(job: Job): void {
    const seenBefore = this.lastJobs.get(job.network)?.id === job.id;
    this.lastJobs.set(job.network, job);
    // A rollback or rebuild changes the generations; re-read them once it ended, whichever way.
    if (job.state !== "running" && (job.kind === "rollback" || job.kind === "rebuild") && job.network === this.selectedName) {
      this.readGenerations(job.network);
    }
    // A rebuild that starts has a new log, one that ended its whole log: read then; BuildLogChanged brings the rest.
    if (job.kind === "rebuild" && job.network === this.selectedName && (!seenBefore || job.state !== "running")) this.buildLog.refresh(job.network);
    this.changed();
  }

  private readGenerations(name: string): void {
    const session = this.feed.session;
    if (!session) return;
    const read = ++this.generationRead;
    this.generationsReadAt = { network: name, generation: this.statusOf(name)?.generation ?? "" };
    session.generations(name).then(
      (list) => {
        if (read !== this.generationRead || name !== this.selectedName) return;
        this.generations = { network: name, list };
        this.changed();
      },
      (error: unknown) => {
        if (read !== this.generationRead || name !== this.selectedName) return;
        this.generations = { network: name, list: [] };
        this.options.report(`cannot read the generations of ${name}: ${errorMessage(error)}`);
        this.changed();
      },
    );
  }

  private statusOf(name: string): NetworkStatus | undefined {
    const state = this.feed.state;
    return state.kind === "networks" ? state.networks.find((network) => network.name === name) : undefined;
  }

  private changed(): void {
    this.emit("changed");
  }
}
