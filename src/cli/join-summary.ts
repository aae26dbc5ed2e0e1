import type { NetworkEntry } from "../shared/network-spec.js";
import type { VmSpec } from "../vmd/generation.js";

// One line each for what a network's VM gets: from the flake's configs.json before the build, from the built
// generation's vm.json after it.

export function describeConfigEntry(entry: NetworkEntry): string {
  const applications = Object.entries(entry.applications)
    .filter(([, application]) => application && application.enable !== false)
    .map(([name]) => name);
  const admin = {
    local: "administered by you",
    remote: `administered by the network's admins over SSH (${entry.adminSshKeys.length} keys)`,
    shared: `administered by you and the network's admins over SSH (${entry.adminSshKeys.length} keys)`,
  }[entry.adminMode];
  return [
    `${entry.vm.memoryMiB} MiB, ${entry.vm.cores} ${entry.vm.cores === 1 ? "core" : "cores"}`,
    entry.vm.stateDiskMiB > 0 ? `${entry.vm.stateDiskMiB} MiB state disk` : "no state disk",
    `display ${entry.vm.display}`,
    entry.networkLayer === "none" ? "no VPN" : `VPN ${entry.networkLayer}`,
    applications.length > 0 ? `apps: ${applications.join(", ")}` : "no apps",
    admin,
  ].join(", ");
}

export function describeVmSpec(vm: VmSpec): string {
  const network = vm.network.mode === "none" ? "no network" : `network ${vm.network.mode}`;
  return [
    `${vm.memoryMiB} MiB`,
    `${vm.cores} ${vm.cores === 1 ? "core" : "cores"}`,
    vm.stateDiskMiB > 0 ? `a ${vm.stateDiskMiB} MiB state disk` : "no state disk",
    `display ${vm.display}`,
    network,
  ].join(", ");
}
