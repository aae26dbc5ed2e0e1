import { interface as dbusInterface, Variant, type MessageBus } from "@jellybrick/dbus-next";
import { asDbusCall } from "../shared/dbus-errors.js";
import { VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH, VMD_VM_INTERFACE, networkObjectPath } from "../shared/dbus-names.js";
import { decodeVmStartOptions, encodeVmStatus, encodeVpnPeer, VM_STATUS_SIGNATURE, type VmStatus } from "../shared/vm-api.js";
import type { VmManager } from "./vm-manager.js";
import type { VmSupervisor } from "./supervisor.js";

// clan-vmd's D-Bus API (docs/dbus.md): a manager object with methods and a StateChanged signal, and one object
// per VM whose properties change with PropertiesChanged. Members are declared with standard (TC39) decorators:
// the fork's configureMembers() is shadowed by its own constructor (docs/decisions/dbus-library.md).

const { Interface, ACCESS_READ, method, signal, property } = dbusInterface;
const STATUS = VM_STATUS_SIGNATURE;

class ManagerInterface extends Interface {
  constructor(
    private readonly manager: VmManager,
    private readonly requestShutdown: (stopVms: boolean) => void,
  ) {
    super(VMD_MANAGER_INTERFACE);
  }

  @method({ inSignature: "", outSignature: `a${STATUS}` })
  List() {
    return this.manager.list().map(encodeVmStatus);
  }

  @method({ inSignature: "ssa{sv}", outSignature: STATUS })
  Start(network: string, generation: string, options: Record<string, unknown>) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.start(network, generation, decodeVmStartOptions(options))));
  }

  @method({ inSignature: "s", outSignature: STATUS })
  Stop(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).stop()));
  }

  @method({ inSignature: "s", outSignature: STATUS })
  Pause(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).pause()));
  }

  @method({ inSignature: "s", outSignature: STATUS })
  Resume(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).resume()));
  }

  @method({ inSignature: "", outSignature: `a${STATUS}` })
  StopAll() {
    return asDbusCall(async () => (await this.manager.stopAll()).map(encodeVmStatus));
  }

  @method({ inSignature: "su", outSignature: "s" })
  ConsoleTail(network: string, maxBytes: number) {
    return asDbusCall(() => this.manager.supervisor(network).consoleTail(maxBytes));
  }

  /** A consistent copy of the network's state disk at `target`, after running `hooks` in the guest. */
  @method({ inSignature: "ssaas", outSignature: "a{sv}" })
  SnapshotState(network: string, target: string, hooks: string[][]) {
    return asDbusCall(async () => {
      const report = await this.manager.supervisor(network, { create: true }).snapshotState(target, hooks);
      return {
        method: new Variant("s", report.method),
        frozenFilesystems: new Variant("i", report.frozenFilesystems),
        hooksRun: new Variant("u", report.hooksRun),
        durationMs: new Variant("d", report.durationMs),
      };
    });
  }

  @method({ inSignature: "ss", outSignature: "" })
  ReplaceStateDisk(network: string, image: string) {
    return asDbusCall(() => this.manager.supervisor(network, { create: true }).replaceStateDisk(image));
  }

  @method({ inSignature: "sasu", outSignature: "iss" })
  GuestExec(network: string, argv: string[], timeoutSeconds: number) {
    return asDbusCall(async () => {
      const result = await this.manager.supervisor(network).guestAgent.exec(argv, timeoutSeconds * 1000);
      return [result.exitCode, result.stdout, result.stderr];
    });
  }

  @method({ inSignature: "s", outSignature: "s" })
  GuestFreezeStatus(network: string) {
    return asDbusCall(() => this.manager.supervisor(network).guestAgent.freezeStatus());
  }

  /** The members of the network's VPN, with their last handshake (docs/vpn.md). */
  @method({ inSignature: "s", outSignature: "aa{sv}" })
  Peers(network: string) {
    return asDbusCall(async () => (await this.manager.supervisor(network).vpn.peers()).map(encodeVpnPeer));
  }

  /** Revokes a peer (by name or public key) at once, and for good: it stays blocked across generations. */
  @method({ inSignature: "ss", outSignature: "" })
  BlockPeer(network: string, peer: string) {
    return asDbusCall(() => this.manager.supervisor(network).vpn.block(peer));
  }

  @method({ inSignature: "ss", outSignature: "" })
  UnblockPeer(network: string, peer: string) {
    return asDbusCall(() => this.manager.supervisor(network).vpn.unblock(peer));
  }

  /** This member's WireGuard public key for the network, generated on first use: what its admins add as a peer. */
  @method({ inSignature: "s", outSignature: "s" })
  VpnPublicKey(network: string) {
    return asDbusCall(() => this.manager.supervisor(network, { create: true }).vpn.publicKey());
  }

  @method({ inSignature: "b", outSignature: "" })
  Shutdown(stopVms: boolean) {
    // After the reply is sent: shutting down leaves the bus and exits, and the caller would get NoReply.
    setImmediate(() => this.requestShutdown(stopVms));
  }

  @signal({ signature: STATUS })
  StateChanged(status: VmStatus) {
    return encodeVmStatus(status);
  }
}


class VmObjectInterface extends Interface {
  constructor(private readonly supervisor: VmSupervisor) {
    super(VMD_VM_INTERFACE);
  }
  @property({ signature: "s", access: ACCESS_READ })
  get Network() {
    return this.supervisor.network;
  }
  @property({ signature: "s", access: ACCESS_READ })
  get State() {
    return this.supervisor.status.state;
  }
  @property({ signature: "s", access: ACCESS_READ })
  get Generation() {
    return this.supervisor.status.generation;
  }
  @property({ signature: "u", access: ACCESS_READ })
  get Pid() {
    return this.supervisor.status.pid;
  }
  @property({ signature: "s", access: ACCESS_READ })
  get Error() {
    return this.supervisor.status.error;
  }
}


export function exportVmdApi(bus: MessageBus, manager: VmManager, requestShutdown: (stopVms: boolean) => void): void {
  const managerInterface = new ManagerInterface(manager, requestShutdown);
  bus.export(VMD_MANAGER_PATH, managerInterface);
  const exportVm = (supervisor: VmSupervisor) => {
    const vmInterface = new VmObjectInterface(supervisor);
    bus.export(networkObjectPath(VMD_MANAGER_PATH, supervisor.network), vmInterface);
    supervisor.on("status", (status) => {
      Interface.emitPropertiesChanged(vmInterface, {
        State: status.state,
        Generation: status.generation,
        Pid: status.pid,
        Error: status.error,
      });
    });
  };
  manager.on("added", exportVm);
  manager.on("status", (status) => managerInterface.StateChanged(status));
}
