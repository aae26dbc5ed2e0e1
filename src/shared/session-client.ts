import type { MessageBus } from "@jellybrick/dbus-next";
import type { NetworkApplications, UpdatePolicy } from "./applications-api.js";
import { ContractProxy } from "./contracts/client.js";
import { SessionManagerContract } from "./contracts/session.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_PATH } from "./dbus-names.js";
import type { Job } from "./job-api.js";
import type { BuildLogLines, VmFigures } from "./monitoring-api.js";
import { watchName } from "./name-watch.js";
import type { BackupSnapshot, GenerationEntry, NetworkStatus } from "./session-api.js";
import type { VpnPeerInfo } from "./vm-api.js";

// A typed client of clan-sessiond's D-Bus API (contracts/session.ts), for clanctl and the bar: replies and
// signals are validated by their codecs.

export class SessionClient {
  private constructor(
    private readonly bus: MessageBus,
    private readonly manager: ContractProxy<typeof SessionManagerContract>,
  ) {}

  static async connect(bus: MessageBus): Promise<SessionClient> {
    return new SessionClient(bus, await ContractProxy.connect(bus, "clan-sessiond", SESSION_BUS_NAME, SESSION_MANAGER_PATH, SessionManagerContract));
  }

  listNetworks(): Promise<NetworkStatus[]> {
    return this.manager.call("ListNetworks");
  }

  getNetwork(name: string): Promise<NetworkStatus> {
    return this.manager.call("GetNetwork", name);
  }

  start(name: string): Promise<void> {
    return this.manager.call("Start", name);
  }

  stop(name: string): Promise<void> {
    return this.manager.call("Stop", name);
  }

  pause(name: string): Promise<void> {
    return this.manager.call("Pause", name);
  }

  switchTo(name: string): Promise<void> {
    return this.manager.call("Switch", name);
  }

  /** Starts (or joins) a rebuild job and resolves with its id at once; JobChanged tells the rest. */
  startRebuild(name: string): Promise<string> {
    return this.manager.call("StartRebuild", name);
  }

  /** As startRebuild, of exactly `revision` of the network's source (the one `clanctl join` showed and the user confirmed). */
  startRebuildRevision(name: string, revision: string): Promise<string> {
    return this.manager.call("StartRebuildRevision", name, revision);
  }

  startRollback(name: string, to?: number): Promise<string> {
    return this.manager.call("StartRollback", name, to ?? -1);
  }

  startBackup(name: string): Promise<string> {
    return this.manager.call("StartBackup", name);
  }

  /** `snapshot` absent: the latest. The job's result is the id of the snapshot restored. */
  startRestore(name: string, snapshot?: string): Promise<string> {
    return this.manager.call("StartRestore", name, snapshot ?? "");
  }

  jobs(): Promise<Job[]> {
    return this.manager.call("Jobs");
  }

  getJob(id: string): Promise<Job> {
    return this.manager.call("GetJob", id);
  }

  onJobChanged(listener: (job: Job) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("JobChanged", listener, onInvalid);
  }

  generations(name: string): Promise<GenerationEntry[]> {
    return this.manager.call("Generations", name);
  }

  buildLog(name: string): Promise<string> {
    return this.manager.call("BuildLog", name);
  }

  checkUpdate(name: string): Promise<boolean> {
    return this.manager.call("CheckUpdate", name);
  }

  peers(name: string): Promise<VpnPeerInfo[]> {
    return this.manager.call("Peers", name);
  }

  blockPeer(name: string, peer: string): Promise<void> {
    return this.manager.call("BlockPeer", name, peer);
  }

  unblockPeer(name: string, peer: string): Promise<void> {
    return this.manager.call("UnblockPeer", name, peer);
  }

  backups(name: string): Promise<BackupSnapshot[]> {
    return this.manager.call("Backups", name);
  }

  /** Re-reads config.json now, rather than after the file watcher's quiet time; rejects with its problems. */
  reloadConfig(): Promise<void> {
    return this.manager.call("ReloadConfig");
  }

  focusedNetwork(): Promise<string> {
    return this.manager.get("FocusedNetwork");
  }

  /** "sway", "i3", or "none" while no window manager is attached. */
  backend(): Promise<string> {
    return this.manager.get("Backend");
  }

  configError(): Promise<string> {
    return this.manager.get("ConfigError");
  }

  onNetworkChanged(listener: (status: NetworkStatus) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("NetworkChanged", listener, onInvalid);
  }

  /** Calls `listener` when clan-sessiond leaves the bus (it stopped or crashed). */
  async onVanished(listener: () => void): Promise<void> {
    await watchName(this.bus, SESSION_BUS_NAME, { appeared: () => undefined, vanished: listener });
  }

  /** A malformed list still says that the list changed: the listener hears of it with no names, and re-reads. */
  onNetworksChanged(listener: (names: string[]) => void): () => void {
    return this.manager.on("NetworksChanged", listener, () => listener([]));
  }

  /** A network's configs.json for the Applications form, and whether clan-sessiond may write it. */
  networkApplications(name: string): Promise<NetworkApplications> {
    return this.manager.call("NetworkApplications", name);
  }

  /** Writes configs.json over `expectedRevision`; resolves with the new revision and what changed. */
  async setNetworkApplications(name: string, configs: string, expectedRevision: string): Promise<{ revision: string; diff: string[] }> {
    const [revision, diff] = await this.manager.call("SetNetworkApplications", name, configs, expectedRevision);
    return { revision, diff };
  }

  /** "New network" from nix/templates/network; resolves with the new flake's directory. */
  createNetwork(request: { name: string; label: string; colour: string; workspace: string }): Promise<string> {
    return this.manager.call("CreateNetwork", request.name, request.label, request.colour, request.workspace);
  }

  updatePolicy(name: string): Promise<UpdatePolicy> {
    return this.manager.call("NetworkUpdatePolicy", name);
  }

  setUpdatePolicy(name: string, policy: UpdatePolicy): Promise<void> {
    return this.manager.call("SetNetworkUpdatePolicy", name, policy);
  }

  notifications(): Promise<boolean> {
    return this.manager.get("Notifications");
  }

  setNotifications(enabled: boolean): Promise<void> {
    return this.manager.call("SetNotifications", enabled);
  }

  /** One sample of the network's VM figures. */
  figures(name: string): Promise<VmFigures> {
    return this.manager.call("Figures", name);
  }

  /** Streams the network's figures as FiguresSampled until unwatchFigures(id) or this client leaves the bus. */
  watchFigures(name: string): Promise<string> {
    return this.manager.call("WatchFigures", name);
  }

  unwatchFigures(id: string): Promise<void> {
    return this.manager.call("UnwatchFigures", id);
  }

  onFiguresSampled(listener: (figures: VmFigures) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("FiguresSampled", listener, onInvalid);
  }

  /** The tail of the VM's serial console, escaped by clan-sessiond (line feeds and tabs kept). */
  consoleLog(name: string): Promise<string> {
    return this.manager.call("ConsoleLog", name);
  }

  onBuildLogChanged(listener: (batch: BuildLogLines) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("BuildLogChanged", listener, onInvalid);
  }
}
