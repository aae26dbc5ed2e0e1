import type { ClientInterface, MessageBus } from "@jellybrick/dbus-next";
import { callMember, onDecodedSignal } from "./proxy-calls.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "./dbus-names.js";
import { ClanError } from "./errors.js";
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
    private readonly manager: ClientInterface,
    private readonly properties: ClientInterface,
  ) {}

  static async connect(bus: MessageBus): Promise<SessionClient> {
    try {
      const object = await bus.getProxyObject(SESSION_BUS_NAME, SESSION_MANAGER_PATH);
      return new SessionClient(object.getInterface(SESSION_MANAGER_INTERFACE), object.getInterface("org.freedesktop.DBus.Properties"));
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

  /** Resolves when the new generation runs, or rejects with why it failed (and whether it was rolled back). */
  async rebuild(name: string): Promise<void> {
    await this.call("Rebuild", name);
  }

  /** As rebuild, of exactly `revision` of the network's source (the one `clanctl join` showed and the user confirmed). */
  async rebuildRevision(name: string, revision: string): Promise<void> {
    await this.call("RebuildRevision", name, revision);
  }

  async rollback(name: string, to?: number): Promise<void> {
    await this.call("Rollback", name, to ?? -1);
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

  /** Resolves when the backup is stored, or rejects with why it failed. */
  async backupNow(name: string): Promise<void> {
    await this.call("BackupNow", name);
  }

  async backups(name: string): Promise<BackupSnapshot[]> {
    return ((await this.call("Backups", name)) as unknown[]).map(decodeBackupSnapshot);
  }

  /** Restores `snapshot` (the latest when absent) and resolves with the id of the snapshot restored. */
  async restore(name: string, snapshot?: string): Promise<string> {
    return String(await this.call("Restore", name, snapshot ?? ""));
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
