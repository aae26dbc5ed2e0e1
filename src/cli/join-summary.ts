import type { FlakeInput, LockedInputs } from "../shared/flake-source/locked-inputs.js";
import type { JoinLink } from "../shared/join-links/join-link.js";
import { linkFacts } from "../shared/join-links/link-facts.js";
import type { NetworkRequest } from "./links/network-request.js";
import { shownText } from "../shared/shown-text.js";
import type { FetchedSource } from "../shared/flake-source/source-fetch.js";
import type { NetworkEntry } from "../shared/network-spec.js";
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

export function describeRequest(source: FetchedSource, request: NetworkRequest, locked: LockedInputs, chosen: ChosenHere): string {
  const date = source.lastModified ? ` (${new Date(source.lastModified).toISOString().replace("T", " ").slice(0, 16)} UTC)` : "";
  const offers = request.machines.length > 1 ? `, of ${request.machines.join(", ")}` : "";
  const lines = [
    `The network asks for:`,
    `  revision:  ${source.revision}${date}`,
    `  machine:   ${request.machine}${offers} — builds ${request.attribute}`,
    ...(request.entry ? describeEntry(request.entry) : [`  the VM:    not described (${request.problem ?? "no configs.json entry"}); known only once built`]),
    `  inputs:    ${locked.inputs.length === 0 ? "none" : locked.inputs.map(describeInput).join("\n             ")}`,
    ...(locked.hasLockFile ? [] : ["  WARNING:   the flake has no flake.lock: inputs its flake.nix declares are fetched unlocked when it is built"]),
    `  here:      network ${chosen.name}, workspace ${JSON.stringify(chosen.workspace)}, colour ${chosen.colour}`,
    "Joining builds this flake with Nix (in its sandbox) and runs the result in a VM on this computer.",
  ];
  return lines.join("\n");
}

function describeInput(input: FlakeInput): string {
  const kinds = input.kinds.length > 0 ? ` [${input.kinds.join(", ")}]` : "";
  return `${shownText(input.path, 80)} from ${shownText(input.source, 160)}${kinds}`;
}

/** configs.json can ask for resources, a VPN, synced folders, voice chat and remote admins; nix/lib's vmSpec gives
 *  every such VM user-mode NAT, no port forwards and the host's Nix store read-only, and configs.json cannot
 *  change that. */
function describeEntry(entry: NetworkEntry): string[] {
  const syncthing = entry.applications.syncthing;
  const mumble = entry.applications.mumbleClient;
  const keys = `${entry.adminSshKeys.length} ${entry.adminSshKeys.length === 1 ? "key" : "keys"}`;
  const admin = {
    local: "you",
    remote: `the network's admins over SSH (${keys}), not you`,
    shared: `you and the network's admins over SSH (${keys})`,
  }[entry.adminMode];
  const synced = syncthing && syncthing.enable && syncthing.sharedFolders.length > 0 ? `; syncthing shares ${syncthing.sharedFolders.join(", ")} (inside the VM) with the network` : "";
  return [
    `  the VM:    ${entry.vm.memoryMiB} MiB, ${entry.vm.cores} ${entry.vm.cores === 1 ? "core" : "cores"}, ${entry.vm.stateDiskMiB > 0 ? `${entry.vm.stateDiskMiB} MiB state disk` : "no state disk"}, display ${entry.vm.display}`,
    `  network:   ${entry.networkLayer === "none" ? "no VPN" : `VPN ${entry.networkLayer}`}; outgoing traffic through this computer (user-mode NAT); no port forwards`,
    `  shares:    this computer's Nix store, read-only${synced}`,
    ...(mumble && mumble.enable ? [`  voice:     mumble server ${mumble.server}:${mumble.port}`] : []),
    `  admins:    ${admin}`,
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
