import { interface as dbusInterface, type MessageBus } from "@jellybrick/dbus-next";
import { asDbusCall } from "../shared/dbus-errors.js";
import { SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../shared/dbus-names.js";
import { ClanError } from "../shared/errors.js";
import { encodeJob, JOB_SIGNATURE, type Job } from "../shared/job-api.js";
import { encodeBackupSnapshot, encodeGeneration, encodeNetworkStatus, NETWORK_STATUS_SIGNATURE, type NetworkStatus } from "../shared/session-api.js";
import { encodeVpnPeer } from "../shared/vm-api.js";
import type { Session as SessionActions } from "./session.js";

// clan-sessiond's D-Bus API (docs/dbus.md). Everything a client shows is pushed: NetworkChanged carries the
// whole status of one network, NetworksChanged the names after a config reload, PropertiesChanged the focus and
// the config error. Members use standard decorators (see docs/decisions/dbus-library.md).

const { Interface, ACCESS_READ, method, signal, property } = dbusInterface;
const STATUS = NETWORK_STATUS_SIGNATURE;

export class SessionManagerInterface extends Interface {
  constructor(private readonly actions: SessionActions) {
    super(SESSION_MANAGER_INTERFACE);
  }

  @method({ inSignature: "", outSignature: `a${STATUS}` })
  ListNetworks() {
    return this.actions.registry.list().map(encodeNetworkStatus);
  }

  @method({ inSignature: "s", outSignature: STATUS })
  GetNetwork(name: string) {
    return asDbusCall(() => encodeNetworkStatus(this.requireNetwork(name)));
  }

  @method({ inSignature: "s", outSignature: "" })
  Start(name: string) {
    return asDbusCall(() => this.actions.start(this.requireNetwork(name).name));
  }

  @method({ inSignature: "s", outSignature: "" })
  Stop(name: string) {
    return asDbusCall(() => this.actions.stop(this.requireNetwork(name).name));
  }

  @method({ inSignature: "s", outSignature: "" })
  Pause(name: string) {
    return asDbusCall(() => this.actions.pause(this.requireNetwork(name).name));
  }

  @method({ inSignature: "s", outSignature: "" })
  Switch(name: string) {
    return asDbusCall(() => this.actions.switchTo(this.requireNetwork(name).name));
  }

  /** Starts a job that builds the network's flake, boots the new generation, and rolls back by itself if it does
   *  not come up; returns the job's id at once (a rebuild already running is joined). */
  @method({ inSignature: "s", outSignature: "s" })
  StartRebuild(name: string) {
    return asDbusCall(async () => (await this.actions.jobs.startRebuild(this.requireNetwork(name).name)).id);
  }

  /** Starts a job that switches to generation `to`, or to the previous one when `to` is negative. */
  @method({ inSignature: "si", outSignature: "s" })
  StartRollback(name: string, to: number) {
    return asDbusCall(async () => (await this.actions.jobs.startRollback(this.requireNetwork(name).name, to < 0 ? undefined : to)).id);
  }

  @method({ inSignature: "s", outSignature: "s" })
  StartBackup(name: string) {
    return asDbusCall(async () => (await this.actions.jobs.startBackup(this.requireNetwork(name).name)).id);
  }

  /** Starts a job that restores snapshot `snapshot` ("" for the latest); its result is the id restored. */
  @method({ inSignature: "ss", outSignature: "s" })
  StartRestore(name: string, snapshot: string) {
    return asDbusCall(async () => (await this.actions.jobs.startRestore(this.requireNetwork(name).name, snapshot)).id);
  }

  /** Jobs running or ended in the last 15 minutes, oldest first. */
  @method({ inSignature: "", outSignature: `a${JOB_SIGNATURE}` })
  Jobs() {
    return this.actions.jobs.runner.list().map(encodeJob);
  }

  @method({ inSignature: "s", outSignature: JOB_SIGNATURE })
  GetJob(id: string) {
    return asDbusCall(() => encodeJob(this.actions.jobs.runner.get(id)));
  }

  /** The blocking form of StartRebuild, kept for older callers: replies when the job ends. */
  @method({ inSignature: "s", outSignature: "" })
  Rebuild(name: string) {
    return asDbusCall(async () => {
      await this.untilEnded(await this.actions.jobs.startRebuild(this.requireNetwork(name).name));
    });
  }

  /** As StartRebuild, of exactly `revision` of the source (a git commit, or a path's content hash): the one a join confirmed. */
  @method({ inSignature: "ss", outSignature: "s" })
  StartRebuildRevision(name: string, revision: string) {
    return asDbusCall(async () => (await this.actions.jobs.startRebuild(this.requireNetwork(name).name, revision)).id);
  }

  @method({ inSignature: "si", outSignature: "" })
  Rollback(name: string, to: number) {
    return asDbusCall(async () => {
      await this.untilEnded(await this.actions.jobs.startRollback(this.requireNetwork(name).name, to < 0 ? undefined : to));
    });
  }

  @method({ inSignature: "s", outSignature: "aa{sv}" })
  Generations(name: string) {
    return asDbusCall(async () => (await this.actions.generations.generations(this.requireNetwork(name).name)).map(encodeGeneration));
  }

  @method({ inSignature: "s", outSignature: "s" })
  BuildLog(name: string) {
    return asDbusCall(() => this.actions.generations.buildLog(this.requireNetwork(name).name));
  }

  @method({ inSignature: "s", outSignature: "b" })
  CheckUpdate(name: string) {
    return asDbusCall(() => this.actions.generations.checkUpdate(this.requireNetwork(name).name));
  }

  /** The members of the network's VPN with their last handshake (docs/vpn.md). */
  @method({ inSignature: "s", outSignature: "aa{sv}" })
  Peers(name: string) {
    return asDbusCall(async () => (await this.actions.vms.peers(this.requireNetwork(name).name)).map(encodeVpnPeer));
  }

  /** Revokes a peer (its name or public key) at once and for good; UnblockPeer lets it back. */
  @method({ inSignature: "ss", outSignature: "" })
  BlockPeer(name: string, peer: string) {
    return asDbusCall(() => this.actions.vms.blockPeer(this.requireNetwork(name).name, peer));
  }

  @method({ inSignature: "ss", outSignature: "" })
  UnblockPeer(name: string, peer: string) {
    return asDbusCall(() => this.actions.vms.unblockPeer(this.requireNetwork(name).name, peer));
  }

  /** The blocking form of StartBackup, kept for older callers: replies when the backup is stored. */
  @method({ inSignature: "s", outSignature: "" })
  BackupNow(name: string) {
    return asDbusCall(async () => {
      await this.untilEnded(await this.actions.jobs.startBackup(this.requireNetwork(name).name));
    });
  }

  @method({ inSignature: "s", outSignature: "aa{sv}" })
  Backups(name: string) {
    return asDbusCall(async () => (await this.actions.backups.snapshots(this.requireNetwork(name).name)).map(encodeBackupSnapshot));
  }

  /** The blocking form of StartRestore, kept for older callers: replies with the id of the snapshot restored. */
  @method({ inSignature: "ss", outSignature: "s" })
  Restore(name: string, snapshot: string) {
    return asDbusCall(async () => this.untilEnded(await this.actions.jobs.startRestore(this.requireNetwork(name).name, snapshot)));
  }

  /** For window managers outside this process (the GNOME extension): the user focused this workspace. */
  @method({ inSignature: "s", outSignature: "" })
  WorkspaceFocused(workspace: string) {
    return asDbusCall(() => {
      if (workspace.length > 1024) throw new ClanError("InvalidArgument", "workspace name is longer than 1024 characters");
      this.actions.focusReported(workspace);
    });
  }

  @method({ inSignature: "", outSignature: "" })
  ReloadConfig() {
    return asDbusCall(async () => {
      await this.actions.reloadConfig();
    });
  }

  @property({ signature: "s", access: ACCESS_READ })
  get FocusedNetwork() {
    return this.actions.focusedNetwork ?? "";
  }

  @property({ signature: "s", access: ACCESS_READ })
  get ConfigError() {
    return this.actions.configError;
  }

  /** network → pid of the process whose windows show its VM: GNOME moves windows with these pids. */
  @property({ signature: "a{su}", access: ACCESS_READ })
  get ViewerPids() {
    return this.actions.viewerPids;
  }

  @property({ signature: "s", access: ACCESS_READ })
  get Backend() {
    return this.actions.backendKind;
  }

  @signal({ signature: STATUS })
  NetworkChanged(status: NetworkStatus) {
    return encodeNetworkStatus(status);
  }

  @signal({ signature: "as" })
  NetworksChanged(names: string[]) {
    return names;
  }

  @signal({ signature: JOB_SIGNATURE })
  JobChanged(job: Job) {
    return encodeJob(job);
  }

  private untilEnded(job: Job): Promise<string> {
    return this.actions.jobs.runner.outcome(job.id);
  }

  private requireNetwork(name: string): NetworkStatus {
    const status = this.actions.registry.get(name);
    if (!status) throw new ClanError("UnknownNetwork", `no network named ${JSON.stringify(name.slice(0, 64))} in the config`);
    return status;
  }
}

export function exportSessionApi(bus: MessageBus, actions: SessionActions): SessionManagerInterface {
  const manager = new SessionManagerInterface(actions);
  bus.export(SESSION_MANAGER_PATH, manager);
  actions.registry.on("changed", (status) => {
    manager.NetworkChanged(status);
    if (status.focused || status.name === actions.focusedNetwork) {
      Interface.emitPropertiesChanged(manager, { FocusedNetwork: actions.focusedNetwork ?? "" });
    }
  });
  actions.registry.on("list-changed", (names) => manager.NetworksChanged(names));
  actions.jobs.runner.on("changed", (job) => manager.JobChanged(job));
  actions.on("config-error-changed", (message) => Interface.emitPropertiesChanged(manager, { ConfigError: message }));
  actions.on("viewer-pids-changed", (pids) => Interface.emitPropertiesChanged(manager, { ViewerPids: pids }));
  actions.on("backend-changed", (kind) => Interface.emitPropertiesChanged(manager, { Backend: kind }));
  return manager;
}
