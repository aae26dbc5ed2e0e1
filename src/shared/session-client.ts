import type { ClientInterface, MessageBus } from "@jellybrick/dbus-next";
import { callMember, onDecodedSignal } from "./proxy-calls.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "./dbus-names.js";
import { ClanError } from "./errors.js";
import { decodeJob, type Job } from "./job-api.js";
import { watchName } from "./name-watch.js";
import {
  decodeBackupSnapshot,
  decodeGeneration,
  decodeNetworkStatus,
  type BackupSnapshot,
  type GenerationEntry,
  type NetworkStatus,
} from "./session-api.js";
import { decodeVpnPeer, type VpnPeerInfo } from "./vm-api.js";

// A typed client of clan-sessiond's D-Bus API, for clanctl and the bar: replies and signals are validated.

export class SessionClient {
  private constructor(
    private readonly bus: MessageBus,
    private readonly manager: ClientInterface,
    private readonly properties: ClientInterface,
  ) {}

  static async connect(bus: MessageBus): Promise<SessionClient> {
    try {
      const object = await bus.getProxyObject(SESSION_BUS_NAME, SESSION_MANAGER_PATH);
      return new SessionClient(bus, object.getInterface(SESSION_MANAGER_INTERFACE), object.getInterface("org.freedesktop.DBus.Properties"));
    } catch (error) {
      throw new ClanError("Disconnected", `clan-sessiond is not running on this session bus (${SESSION_BUS_NAME})`, { cause: error });
    }
  }

  async listNetworks(): Promise<NetworkStatus[]> {
    return ((await this.call("ListNetworks")) as unknown[]).map(decodeNetworkStatus);
  }

  async getNetwork(name: string): Promise<NetworkStatus> {
    return decodeNetworkStatus(await this.call("GetNetwork", name));
  }

  async start(name: string): Promise<void> {
    await this.call("Start", name);
  }

  async stop(name: string): Promise<void> {
    await this.call("Stop", name);
  }

  async pause(name: string): Promise<void> {
    await this.call("Pause", name);
  }

  async switchTo(name: string): Promise<void> {
    await this.call("Switch", name);
  }

  /** Starts (or joins) a rebuild job and resolves with its id at once; JobChanged tells the rest. */
  async startRebuild(name: string): Promise<string> {
    return String(await this.call("StartRebuild", name));
  }

  /** As startRebuild, of exactly `revision` of the network's source (the one `clanctl join` showed and the user confirmed). */
  async startRebuildRevision(name: string, revision: string): Promise<string> {
    return String(await this.call("StartRebuildRevision", name, revision));
  }

  async startRollback(name: string, to?: number): Promise<string> {
    return String(await this.call("StartRollback", name, to ?? -1));
  }

  async startBackup(name: string): Promise<string> {
    return String(await this.call("StartBackup", name));
  }

  /** `snapshot` absent: the latest. The job's result is the id of the snapshot restored. */
  async startRestore(name: string, snapshot?: string): Promise<string> {
    return String(await this.call("StartRestore", name, snapshot ?? ""));
  }

  async jobs(): Promise<Job[]> {
    return ((await this.call("Jobs")) as unknown[]).map(decodeJob);
  }

  async getJob(id: string): Promise<Job> {
    return decodeJob(await this.call("GetJob", id));
  }

  onJobChanged(listener: (job: Job) => void, onInvalid: (error: Error) => void): () => void {
    return onDecodedSignal(this.manager, "JobChanged", decodeJob, listener, onInvalid);
  }

  async generations(name: string): Promise<GenerationEntry[]> {
    return ((await this.call("Generations", name)) as unknown[]).map(decodeGeneration);
  }

  async buildLog(name: string): Promise<string> {
    return String(await this.call("BuildLog", name));
  }

  async checkUpdate(name: string): Promise<boolean> {
    return (await this.call("CheckUpdate", name)) === true;
  }

  async peers(name: string): Promise<VpnPeerInfo[]> {
    return ((await this.call("Peers", name)) as unknown[]).map(decodeVpnPeer);
  }

  async blockPeer(name: string, peer: string): Promise<void> {
    await this.call("BlockPeer", name, peer);
  }

  async unblockPeer(name: string, peer: string): Promise<void> {
    await this.call("UnblockPeer", name, peer);
  }

  async backups(name: string): Promise<BackupSnapshot[]> {
    return ((await this.call("Backups", name)) as unknown[]).map(decodeBackupSnapshot);
  }

  /** Re-reads config.json now, rather than after the file watcher's quiet time; rejects with its problems. */
  async reloadConfig(): Promise<void> {
    await this.call("ReloadConfig");
  }

  async focusedNetwork(): Promise<string> {
    return String(await this.property("FocusedNetwork"));
  }

  /** "sway", "i3", or "none" while no window manager is attached. */
  async backend(): Promise<string> {
    return String(await this.property("Backend"));
  }

  async configError(): Promise<string> {
    return String(await this.property("ConfigError"));
  }

  onNetworkChanged(listener: (status: NetworkStatus) => void, onInvalid: (error: Error) => void): () => void {
    return onDecodedSignal(this.manager, "NetworkChanged", decodeNetworkStatus, listener, onInvalid);
  }

  /** Calls `listener` when clan-sessiond leaves the bus (it stopped or crashed). */
  async onVanished(listener: () => void): Promise<void> {
    await watchName(this.bus, SESSION_BUS_NAME, { appeared: () => undefined, vanished: listener });
  }

  onNetworksChanged(listener: (names: string[]) => void): () => void {
    const handler = (names: unknown) => listener(Array.isArray(names) ? names.map(String) : []);
    this.manager.on("NetworksChanged", handler);
    return () => this.manager.off("NetworksChanged", handler);
  }

  private async property(name: string): Promise<unknown> {
    const variant = (await this.invoke(this.properties, "Get", SESSION_MANAGER_INTERFACE, name)) as { value: unknown };
    return variant.value;
  }

  private call(method: string, ...args: unknown[]): Promise<unknown> {
    return this.invoke(this.manager, method, ...args);
  }

  private invoke(target: ClientInterface, method: string, ...args: unknown[]): Promise<unknown> {
    return callMember(target, "clan-sessiond", method, args);
  }
}
