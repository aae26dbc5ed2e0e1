import type { ClientInterface, MessageBus } from "@jellybrick/dbus-next";
import { VMD_BUS_NAME, VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH } from "./dbus-names.js";
import { ClanError } from "./errors.js";
import { z } from "zod";
import { callMember, onDecodedSignal } from "./proxy-calls.js";
import { decodeSecurityEvent, type SecurityEvent } from "./security-events.js";
import {
  decodeVmStatus,
  decodeVpnPeer,
  encodeVmStartOptions,
  SnapshotReport,
  unwrapVariants,
  type VmStartOptions,
  type VmStatus,
  type VpnPeerInfo,
} from "./vm-api.js";

// A typed client of clan-vmd's D-Bus API: every reply and signal is validated by the VmStatus schema.

export class VmdClient {
  private constructor(private readonly manager: ClientInterface) {}

  static async connect(bus: MessageBus): Promise<VmdClient> {
    try {
      const object = await bus.getProxyObject(VMD_BUS_NAME, VMD_MANAGER_PATH);
      return new VmdClient(object.getInterface(VMD_MANAGER_INTERFACE));
    } catch (error) {
      throw new ClanError("Disconnected", `clan-vmd is not running on this session bus (${VMD_BUS_NAME})`, { cause: error });
    }
  }

  async list(): Promise<VmStatus[]> {
    const reply = (await this.call("List")) as unknown[];
    return reply.map(decodeVmStatus);
  }

  /** `options` carry the user's overrides and grants: without grants, every share but the Nix store is refused. */
  async start(network: string, generation: string, options: VmStartOptions = {}): Promise<VmStatus> {
    return decodeVmStatus(await this.call("Start", network, generation, encodeVmStartOptions(options)));
  }

  async stop(network: string): Promise<VmStatus> {
    return decodeVmStatus(await this.call("Stop", network));
  }

  async pause(network: string): Promise<VmStatus> {
    return decodeVmStatus(await this.call("Pause", network));
  }

  async resume(network: string): Promise<VmStatus> {
    return decodeVmStatus(await this.call("Resume", network));
  }

  async stopAll(): Promise<VmStatus[]> {
    return ((await this.call("StopAll")) as unknown[]).map(decodeVmStatus);
  }

  async consoleTail(network: string, maxBytes = 16 * 1024): Promise<string> {
    return String(await this.call("ConsoleTail", network, maxBytes));
  }

  async snapshotState(network: string, target: string, hooks: string[][]): Promise<SnapshotReport> {
    return SnapshotReport.parse(unwrapVariants(await this.call("SnapshotState", network, target, hooks)));
  }

  async replaceStateDisk(network: string, image: string): Promise<void> {
    await this.call("ReplaceStateDisk", network, image);
  }

  async guestExec(network: string, argv: string[], timeoutSeconds = 60): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const [exitCode, stdout, stderr] = z.tuple([z.number(), z.string(), z.string()]).parse(await this.call("GuestExec", network, argv, timeoutSeconds));
    return { exitCode, stdout, stderr };
  }

  async guestFreezeStatus(network: string): Promise<string> {
    return String(await this.call("GuestFreezeStatus", network));
  }

  async peers(network: string): Promise<VpnPeerInfo[]> {
    return ((await this.call("Peers", network)) as unknown[]).map(decodeVpnPeer);
  }

  async blockPeer(network: string, peer: string): Promise<void> {
    await this.call("BlockPeer", network, peer);
  }

  async unblockPeer(network: string, peer: string): Promise<void> {
    await this.call("UnblockPeer", network, peer);
  }

  async vpnPublicKey(network: string): Promise<string> {
    return String(await this.call("VpnPublicKey", network));
  }

  async shutdown(stopVms: boolean): Promise<void> {
    await this.call("Shutdown", stopVms);
  }

  onStateChanged(listener: (status: VmStatus) => void, onInvalid: (error: Error) => void): () => void {
    return onDecodedSignal(this.manager, "StateChanged", decodeVmStatus, listener, onInvalid);
  }

  /** Calls that lowered a network's guard (see security-events.ts), whoever made them. */
  onSecurityEvent(listener: (event: SecurityEvent) => void, onInvalid: (error: Error) => void): () => void {
    return onDecodedSignal(this.manager, "SecurityEvent", decodeSecurityEvent, listener, onInvalid);
  }

  private call(method: string, ...args: unknown[]): Promise<unknown> {
    return callMember(this.manager, "clan-vmd", method, args);
  }
}
