import type { FetchedJoin, JoinRequest } from "../shared/join-links/fetched-join.js";
import type { JoinLink } from "../shared/join-links/join-link.js";
import { linkFacts } from "../shared/join-links/link-facts.js";
import { shownText } from "../shared/shown-text.js";
import type { VmSpec } from "../shared/vm-spec.js";

// What `clanctl join` shows at its two questions: what the link alone says (before anything is fetched), and
// what the fetched flake asks for (before anything is built). Everything that comes from the flake is escaped.

export interface ChosenHere {
  name: string;
  workspace: string;
  colour: string;
}

export function describeLink(link: JoinLink, flake: string, chosen: ChosenHere): string {
  const facts = linkFacts(link, flake);
  const lines = [
    `Join a network from ${link.link}`,
    `  from:      ${facts.from}`,
    `  source:    ${facts.source}`,
    `  revision:  ${facts.revision}`,
    `  machine:   ${facts.machine}`,
    `  here:      network ${chosen.name}, workspace ${JSON.stringify(chosen.workspace)}, colour ${chosen.colour}`,
    ...facts.repairs.map((repair) => `  repaired:  ${repair}`),
    ...facts.warnings.map((warning) => `  WARNING:   ${warning}`),
    "Next: fetch this source into the Nix store, read what the network asks for, and ask again. Nothing of it is run or built yet.",
  ];
  return lines.join("\n");
}

export function describeRequest(fetched: FetchedJoin): string {
  const { request } = fetched;
  const date = fetched.revisionDate ? ` (${new Date(fetched.revisionDate).toISOString().replace("T", " ").slice(0, 16)} UTC)` : "";
  const offers = request.machines.length > 1 ? `, of ${request.machines.join(", ")}` : "";
  const lines = [
    `The network asks for:`,
    `  revision:  ${fetched.revision}${date}`,
    `  machine:   ${request.machine}${offers} — builds ${request.attribute}`,
    ...(request.vm ? [`  the VM:    ${describeResources(request.vm)}`] : [`  the VM:    not described (${shownText(request.notDescribed ?? "", 400)}); known only once built`]),
    ...describeAccess(request),
    ...(request.voice ? [`  voice:     mumble server ${shownText(request.voice, 260)}`] : []),
    ...(request.adminMode ? [`  admins:    ${describeAdmins(request)}`] : []),
    `  inputs:    ${request.inputs.length === 0 ? "none" : request.inputs.map(describeInput).join("\n             ")}`,
    ...(request.hasLockFile ? [] : ["  WARNING:   the flake has no flake.lock: inputs its flake.nix declares are fetched unlocked when it is built"]),
    `  here:      network ${fetched.name}, workspace ${JSON.stringify(fetched.workspace)}, colour ${fetched.colour}`,
    "Joining builds this flake with Nix (in its sandbox) and runs the result in a VM on this computer.",
  ];
  return lines.join("\n");
}

function describeInput(input: JoinRequest["inputs"][number]): string {
  const kinds = input.kinds.length > 0 ? ` [${input.kinds.join(", ")}]` : "";
  return `${shownText(input.path, 80)} from ${shownText(input.source, 160)}${kinds}`;
}

function describeResources(vm: NonNullable<JoinRequest["vm"]>): string {
  return `${vm.memoryMiB} MiB, ${vm.cores} ${vm.cores === 1 ? "core" : "cores"}, ${vm.stateDiskMiB > 0 ? `${vm.stateDiskMiB} MiB state disk` : "no state disk"}, display ${vm.display}`;
}

function describeAdmins(request: JoinRequest): string {
  const keys = `${request.adminKeys} ${request.adminKeys === 1 ? "key" : "keys"}`;
  if (request.adminMode === "remote") return `the network's admins over SSH (${keys}), not you`;
  if (request.adminMode === "shared") return `you and the network's admins over SSH (${keys})`;
  return "you";
}

/** configs.json can ask for resources, a VPN, synced folders, voice chat and remote admins; nix/lib's vmSpec gives
 *  every such VM user-mode NAT, no port forwards and the host's Nix store read-only, and configs.json cannot
 *  change that. A flake with its own vm.json asks for what that file says. */
function describeAccess(request: JoinRequest): string[] {
  const vpn = request.vpn === "none" || request.vpn === "unknown" ? "no VPN" : `VPN ${shownText(request.vpn, 64)}`;
  const synced = request.syncedFolders.length > 0 ? `; syncthing shares ${request.syncedFolders.map((folder) => shownText(folder, 255)).join(", ")} (inside the VM) with the network` : "";
  if (request.accessFrom === "configs.json") {
    return [
      `  network:   ${vpn}; outgoing traffic through this computer (user-mode NAT); no port forwards`,
      `  shares:    this computer's Nix store, read-only${synced}`,
    ];
  }
  if (request.accessFrom === "unknown") return [];
  const forwards = request.forwards.map((forward) => `host port ${forward.hostPort} → guest port ${forward.guestPort}`);
  const shares = request.shares.map((share) => `${shownText(share.source, 300)} (${share.readOnly ? "read-only" : "read-write"}, tag ${shownText(share.tag, 64)})`);
  return [
    `  network:   mode ${request.networkMode}, as the flake's vm.json asks; ${forwards.length > 0 ? `forwards ${forwards.join(", ")}` : "no port forwards"}`,
    `  shares:    ${shares.length > 0 ? `${shares.join(", ")} — booted only where your config grants them` : "none"} (the flake's vm.json)${synced}`,
  ];
}

export function describeVmSpec(vm: VmSpec): string {
  const network = vm.network.mode === "none" ? "no network" : `network ${vm.network.mode}`;
  const forwards = vm.network.forwards.map((forward) => `host port ${forward.hostPort} → ${forward.guestPort}`);
  const shares = vm.shares.map((share) => `${share.source}${share.readOnly ? " (read-only)" : ""}`);
  return [
    `${vm.memoryMiB} MiB`,
    `${vm.cores} ${vm.cores === 1 ? "core" : "cores"}`,
    vm.stateDiskMiB > 0 ? `a ${vm.stateDiskMiB} MiB state disk` : "no state disk",
    `display ${vm.display}`,
    network,
    ...(forwards.length > 0 ? [`forwards ${forwards.join(", ")}`] : []),
    ...(shares.length > 0 ? [`host folders ${shares.join(", ")}`] : []),
  ].join(", ");
}
