import { interface as dbusInterface, Variant, type MessageBus } from "@jellybrick/dbus-next";
import { asDbusCall } from "../shared/dbus-errors.js";
import { VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH, VMD_VM_INTERFACE, networkObjectPath } from "../shared/dbus-names.js";
import { errorMessage } from "../shared/errors.js";
import { encodeSecurityEvent, SECURITY_EVENT_SIGNATURE, type SecurityEvent } from "../shared/security-events.js";
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
    private readonly log: (message: string) => void,
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
    return asDbusCall(async () => {
      await this.manager.supervisor(network, { create: true }).replaceStateDisk(image);
      this.announce({ network, action: "state-disk-replaced", detail: `its state disk was replaced by ${image}; the old one is kept as state.qcow2.previous` });
    });
  }

  @method({ inSignature: "sasu", outSignature: "iss" })
  GuestExec(network: string, argv: string[], timeoutSeconds: number) {
    return asDbusCall(async () => {
      const agent = this.manager.supervisor(network).guestAgent;
      const command = describeCommand(argv);
      try {
        const result = await agent.exec(argv, timeoutSeconds * 1000);
        this.announce({ network, action: "guest-exec", detail: `${command} ran as root in the guest (exit ${result.exitCode})` });
        return [result.exitCode, result.stdout, result.stderr];
      } catch (error) {
        // It may have started before it failed (a timeout, a lost agent): the attempt is told too.
        this.announce({ network, action: "guest-exec", detail: `${command} was asked to run as root in the guest and failed: ${errorMessage(error)}` });
        throw error;
      }
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
    return asDbusCall(async () => {
      const unblocked = await this.manager.supervisor(network).vpn.unblock(peer);
      if (unblocked) this.announce({ network, action: "peer-unblocked", detail: `${unblocked} may reach the network's VPN again` });
    });
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

  @signal({ signature: SECURITY_EVENT_SIGNATURE })
  SecurityEvent(event: SecurityEvent) {
    return encodeSecurityEvent(event);
  }

  /** A call that lowered a network's guard went through: logged here, shown as a notification by clan-sessiond. */
  private announce(event: SecurityEvent): void {
    this.log(`${event.network}: ${event.action}: ${event.detail}`);
    this.SecurityEvent(event);
  }
}

/** argv as one readable line, shortened: it is shown in a notification. */
function describeCommand(argv: string[]): string {
  const line = argv.map((word) => (/^[\w./=:@+-]+$/.test(word) ? word : JSON.stringify(word))).join(" ");
  return `"${line.length > 200 ? `${line.slice(0, 200)}…` : line}"`;
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


export function exportVmdApi(bus: MessageBus, manager: VmManager, requestShutdown: (stopVms: boolean) => void, log: (message: string) => void): void {
  const managerInterface = new ManagerInterface(manager, requestShutdown, log);
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
