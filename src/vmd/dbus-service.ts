import { interface as dbusInterface, type MessageBus } from "@jellybrick/dbus-next";
import { asDbusCall } from "../shared/dbus-errors.js";
import { VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH, VMD_VM_INTERFACE, networkObjectPath } from "../shared/dbus-names.js";
import { encodeVmStatus, VM_STATUS_SIGNATURE, type VmStatus } from "../shared/vm-api.js";
import type { VmManager } from "./vm-manager.js";
import type { VmSupervisor } from "./supervisor.js";

// clan-vmd's D-Bus API (docs/dbus.md): a manager object with methods and a StateChanged signal, and one object
// per VM whose properties change with PropertiesChanged.

const { Interface, ACCESS_READ } = dbusInterface;

class ManagerInterface extends Interface {
  constructor(
    private readonly manager: VmManager,
    private readonly requestShutdown: (stopVms: boolean) => void,
  ) {
    super(VMD_MANAGER_INTERFACE);
  }

  List() {
    return this.manager.list().map(encodeVmStatus);
  }

  Start(network: string, generation: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.start(network, generation)));
  }

  Stop(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).stop()));
  }

  Pause(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).pause()));
  }

  Resume(network: string) {
    return asDbusCall(async () => encodeVmStatus(await this.manager.supervisor(network).resume()));
  }

  StopAll() {
    return asDbusCall(async () => (await this.manager.stopAll()).map(encodeVmStatus));
  }

  ConsoleTail(network: string, maxBytes: number) {
    return asDbusCall(() => this.manager.supervisor(network).consoleTail(maxBytes));
  }

  Shutdown(stopVms: boolean) {
    this.requestShutdown(stopVms);
  }

  StateChanged(status: VmStatus) {
    return encodeVmStatus(status);
  }
}

ManagerInterface.configureMembers({
  methods: {
    List: { inSignature: "", outSignature: `a${VM_STATUS_SIGNATURE}` },
    Start: { inSignature: "ss", outSignature: VM_STATUS_SIGNATURE },
    Stop: { inSignature: "s", outSignature: VM_STATUS_SIGNATURE },
    Pause: { inSignature: "s", outSignature: VM_STATUS_SIGNATURE },
    Resume: { inSignature: "s", outSignature: VM_STATUS_SIGNATURE },
    StopAll: { inSignature: "", outSignature: `a${VM_STATUS_SIGNATURE}` },
    ConsoleTail: { inSignature: "su", outSignature: "s" },
    Shutdown: { inSignature: "b", outSignature: "" },
  },
  signals: { StateChanged: { signature: VM_STATUS_SIGNATURE } },
});

class VmObjectInterface extends Interface {
  constructor(private readonly supervisor: VmSupervisor) {
    super(VMD_VM_INTERFACE);
  }
  get Network() {
    return this.supervisor.network;
  }
  get State() {
    return this.supervisor.status.state;
  }
  get Generation() {
    return this.supervisor.status.generation;
  }
  get Pid() {
    return this.supervisor.status.pid;
  }
  get Error() {
    return this.supervisor.status.error;
  }
}

VmObjectInterface.configureMembers({
  properties: {
    Network: { signature: "s", access: ACCESS_READ },
    State: { signature: "s", access: ACCESS_READ },
    Generation: { signature: "s", access: ACCESS_READ },
    Pid: { signature: "u", access: ACCESS_READ },
    Error: { signature: "s", access: ACCESS_READ },
  },
});

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
