import type { MessageBus } from "@jellybrick/dbus-next";
import { serveContract, type ServedInterface } from "../shared/contracts/service.js";
import { VmdManagerContract, VmdVmContract } from "../shared/contracts/vmd.js";
import { VMD_MANAGER_PATH, networkObjectPath } from "../shared/dbus-names.js";
import { errorMessage } from "../shared/errors.js";
import type { SecurityEvent } from "../shared/security-events.js";
import type { VmManager } from "./vm-manager.js";
import type { VmSupervisor } from "./supervisor.js";
import { traceHop } from "../shared/hop-trace.js";

// clan-vmd's D-Bus API (contracts/vmd.ts, docs/dbus.md): a manager object with methods and a StateChanged
// signal, and one object per VM whose properties change with PropertiesChanged. The contract validates the
// arguments and encodes the replies; this file only says what each method does.

type Manager = ServedInterface<typeof VmdManagerContract>;

function serveManager(bus: MessageBus, manager: VmManager, requestShutdown: (stopVms: boolean) => void, log: (message: string) => void): Manager {
  /** A call that lowered a network's guard went through: logged here, shown as a notification by clan-sessiond. */
  const announce = (event: SecurityEvent): void => {
    log(`${event.network}: ${event.action}: ${event.detail}`);
    served.emitSignal("SecurityEvent", event);
  };
  const served: Manager = serveContract(
    bus,
    VMD_MANAGER_PATH,
    VmdManagerContract,
    {
      List: () => manager.list(),
      Start: (network, generation, options) => manager.start(network, generation, options),
      PrepareStart: (network, generation, options) => manager.prepareStart(network, generation, options),
      ReleaseStoreView: (network) => manager.releaseStoreView(network),
      Stop: (network) => manager.supervisor(network).stop(),
      Pause: (network) => manager.supervisor(network).pause(),
      Resume: (network) => {
        traceHop?.("resume-received", network);
        return manager.supervisor(network).resume();
      },
      StopAll: () => manager.stopAll(),
      ConsoleTail: (network, maxBytes) => manager.supervisor(network).consoleTail(maxBytes),
      SnapshotState: (network, target, hooks) => manager.supervisor(network, { create: true }).snapshotState(target, hooks),
      ReplaceStateDisk: async (network, image) => {
        await manager.supervisor(network, { create: true }).replaceStateDisk(image);
        announce({ network, action: "state-disk-replaced", detail: `its state disk was replaced by ${image}; the old one is kept as state.qcow2.previous` });
      },
      GuestExec: async (network, argv, timeoutSeconds) => {
        const agent = manager.supervisor(network).guestAgent;
        const command = describeCommand(argv);
        try {
          const result = await agent.exec(argv, timeoutSeconds * 1000);
          announce({ network, action: "guest-exec", detail: `${command} ran as root in the guest (exit ${result.exitCode})` });
          return [result.exitCode, result.stdout, result.stderr];
        } catch (error) {
          // It may have started before it failed (a timeout, a lost agent): the attempt is told too.
          announce({ network, action: "guest-exec", detail: `${command} was asked to run as root in the guest and failed: ${errorMessage(error)}` });
          throw error;
        }
      },
      GuestFreezeStatus: (network) => manager.supervisor(network).guestAgent.freezeStatus(),
      Peers: (network) => manager.supervisor(network).vpn.peers(),
      BlockPeer: (network, peer) => manager.supervisor(network).vpn.block(peer),
      UnblockPeer: async (network, peer) => {
        const unblocked = await manager.supervisor(network).vpn.unblock(peer);
        if (unblocked) announce({ network, action: "peer-unblocked", detail: `${unblocked} may reach the network's VPN again` });
      },
      VpnPublicKey: (network) => manager.supervisor(network, { create: true }).vpn.publicKey(),
      Figures: (network) => manager.supervisor(network).figures(),
      Shutdown: (stopVms) => {
        // After the reply is sent: shutting down leaves the bus and exits, and the caller would get NoReply.
        setImmediate(() => requestShutdown(stopVms));
      },
    },
    {},
  );
  return served;
}

/** argv as one readable line, shortened: it is shown in a notification. */
function describeCommand(argv: string[]): string {
  const line = argv.map((word) => (/^[\w./=:@+-]+$/.test(word) ? word : JSON.stringify(word))).join(" ");
  return `"${line.length > 200 ? `${line.slice(0, 200)}…` : line}"`;
}

function serveVm(bus: MessageBus, supervisor: VmSupervisor): void {
  const served = serveContract(bus, networkObjectPath(VMD_MANAGER_PATH, supervisor.network), VmdVmContract, {}, {
    Network: () => supervisor.network,
    State: () => supervisor.status.state,
    Generation: () => supervisor.status.generation,
    Pid: () => supervisor.status.pid,
    Error: () => supervisor.status.error,
  });
  supervisor.on("status", (status) => {
    served.propertiesChanged({ State: status.state, Generation: status.generation, Pid: status.pid, Error: status.error });
  });
}

export function exportVmdApi(bus: MessageBus, manager: VmManager, requestShutdown: (stopVms: boolean) => void, log: (message: string) => void): void {
  const served = serveManager(bus, manager, requestShutdown, log);
  manager.on("added", (supervisor) => serveVm(bus, supervisor));
  manager.on("status", (status) => {
    traceHop?.(`state-changed-sent:${status.state}`, status.network);
    served.emitSignal("StateChanged", status);
  });
}
