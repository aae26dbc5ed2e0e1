import type { MessageBus } from "@jellybrick/dbus-next";
import { ContractProxy } from "./contracts/client.js";
import { VmdManagerContract } from "./contracts/vmd.js";
import { VMD_BUS_NAME, VMD_MANAGER_PATH } from "./dbus-names.js";
import type { VmFigures } from "./monitoring-api.js";
import type { SecurityEvent } from "./security-events.js";
import type { SnapshotReport, VmStartOptions, VmStatus, VpnPeerInfo } from "./vm-api.js";

// A typed client of clan-vmd's D-Bus API (contracts/vmd.ts): every reply and signal is validated by its codec.

export class VmdClient {
  private constructor(private readonly manager: ContractProxy<typeof VmdManagerContract>) {}

  static async connect(bus: MessageBus): Promise<VmdClient> {
    return new VmdClient(await ContractProxy.connect(bus, "clan-vmd", VMD_BUS_NAME, VMD_MANAGER_PATH, VmdManagerContract));
  }

  list(): Promise<VmStatus[]> {
    return this.manager.call("List");
  }

  /** `options` carry the user's overrides and grants: without grants, every share but the Nix store is refused. */
  start(network: string, generation: string, options: VmStartOptions = {}): Promise<VmStatus> {
    return this.manager.call("Start", network, generation, options);
  }

  /** Checks `generation` as start() would and has clan-vmd prepare its start in the background. */
  prepareStart(network: string, generation: string, options: VmStartOptions = {}): Promise<void> {
    return this.manager.call("PrepareStart", network, generation, options);
  }

  releaseStoreView(network: string): Promise<void> {
    return this.manager.call("ReleaseStoreView", network);
  }

  stop(network: string): Promise<VmStatus> {
    return this.manager.call("Stop", network);
  }

  pause(network: string): Promise<VmStatus> {
    return this.manager.call("Pause", network);
  }

  resume(network: string): Promise<VmStatus> {
    return this.manager.call("Resume", network);
  }

  stopAll(): Promise<VmStatus[]> {
    return this.manager.call("StopAll");
  }

  consoleTail(network: string, maxBytes = 16 * 1024): Promise<string> {
    return this.manager.call("ConsoleTail", network, maxBytes);
  }

  snapshotState(network: string, target: string, hooks: string[][]): Promise<SnapshotReport> {
    return this.manager.call("SnapshotState", network, target, hooks);
  }

  replaceStateDisk(network: string, image: string): Promise<void> {
    return this.manager.call("ReplaceStateDisk", network, image);
  }

  async guestExec(network: string, argv: string[], timeoutSeconds = 60): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const [exitCode, stdout, stderr] = await this.manager.call("GuestExec", network, argv, timeoutSeconds);
    return { exitCode, stdout, stderr };
  }

  guestFreezeStatus(network: string): Promise<string> {
    return this.manager.call("GuestFreezeStatus", network);
  }

  peers(network: string): Promise<VpnPeerInfo[]> {
    return this.manager.call("Peers", network);
  }

  blockPeer(network: string, peer: string): Promise<void> {
    return this.manager.call("BlockPeer", network, peer);
  }

  unblockPeer(network: string, peer: string): Promise<void> {
    return this.manager.call("UnblockPeer", network, peer);
  }

  vpnPublicKey(network: string): Promise<string> {
    return this.manager.call("VpnPublicKey", network);
  }

  shutdown(stopVms: boolean): Promise<void> {
    return this.manager.call("Shutdown", stopVms);
  }

  onStateChanged(listener: (status: VmStatus) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("StateChanged", listener, onInvalid);
  }

  /** Calls that lowered a network's guard (see security-events.ts), whoever made them. */
  onSecurityEvent(listener: (event: SecurityEvent) => void, onInvalid: (error: Error) => void): () => void {
    return this.manager.on("SecurityEvent", listener, onInvalid);
  }

  /** One sample of the VM's figures, measured now (docs/dbus.md, `Figures`). */
  figures(network: string): Promise<VmFigures> {
    return this.manager.call("Figures", network);
  }
}
