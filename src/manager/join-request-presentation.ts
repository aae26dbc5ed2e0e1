import type { FetchedJoin, JoinRequest } from "../shared/join-links/fetched-join.js";
import type { LinkFactRow } from "./join-presentation.js";
import { safeText } from "./network-presentation.js";

// What the join page shows at its second question: what the fetched network asks for (clanctl join --fetch-only's
// description), as plain data. Names and paths come from the network's flake, so every one is made safe.

export interface JoinRequestView {
  /** Revision, machine, the VM, network mode, VPN, admins, voice, synced folders, and what is chosen here. */
  facts: LinkFactRow[];
  /** The host folders it asks for, each with how it would be mounted. */
  shares: LinkFactRow[];
  forwards: LinkFactRow[];
  /** Its flake inputs, with what makes each need the user's permission. */
  inputs: LinkFactRow[];
  warnings: string[];
}

export function presentJoinRequest(fetched: FetchedJoin): JoinRequestView {
  const { request } = fetched;
  const date = fetched.revisionDate ? ` (${new Date(fetched.revisionDate).toISOString().replace("T", " ").slice(0, 16)} UTC)` : "";
  const facts: LinkFactRow[] = [
    { title: "Revision", text: `${safeText(fetched.revision)}${date}` },
    { title: "Machine", text: `${safeText(request.machine)}${request.machines.length > 1 ? ` (of ${request.machines.map(safeText).join(", ")})` : ""}, builds ${safeText(request.attribute)}` },
    { title: "The VM", text: request.vm ? describeResources(request.vm) : `not described (${safeText(request.notDescribed ?? "")}); known only once built` },
    { title: "Network mode", text: describeNetworkMode(request) },
    { title: "VPN", text: request.vpn === "unknown" ? "not described" : request.vpn === "none" ? "none" : safeText(request.vpn) },
    ...(request.adminMode ? [{ title: "Administered by", text: describeAdmins(request) }] : []),
    ...(request.voice ? [{ title: "Voice chat", text: `mumble server ${safeText(request.voice)}` }] : []),
    ...(request.syncedFolders.length > 0 ? [{ title: "Synced folders", text: `${request.syncedFolders.map(safeText).join(", ")} (inside the VM), with the network` }] : []),
    { title: "Here", text: `network ${safeText(fetched.name)}, workspace ${safeText(fetched.workspace)}, colour ${safeText(fetched.colour)}` },
  ];
  return {
    facts,
    shares: describeShares(request),
    forwards: request.forwards.map((forward) => ({ title: "Forward", text: `host port ${forward.hostPort} to guest port ${forward.guestPort}` })),
    inputs: request.inputs.map((input) => ({
      title: safeText(input.path),
      text: `${safeText(input.source)}${input.kinds.length > 0 ? ` [${input.kinds.join(", ")}]` : ""}`,
    })),
    warnings: request.hasLockFile ? [] : ["the flake has no flake.lock: inputs its flake.nix declares are fetched unlocked when it is built"],
  };
}

function describeResources(vm: NonNullable<JoinRequest["vm"]>): string {
  const disk = vm.stateDiskMiB > 0 ? `${vm.stateDiskMiB} MiB state disk` : "no state disk";
  return `${vm.memoryMiB} MiB, ${vm.cores} ${vm.cores === 1 ? "core" : "cores"}, ${disk}, display ${vm.display}`;
}

function describeNetworkMode(request: JoinRequest): string {
  if (request.accessFrom === "unknown") return "not described; known only once built";
  const from = request.accessFrom === "vm.json" ? "as the flake's vm.json asks" : "user-mode NAT, as every configs.json network gets";
  return `${request.networkMode} (${from})`;
}

function describeShares(request: JoinRequest): LinkFactRow[] {
  if (request.accessFrom === "configs.json") return [{ title: "Share", text: "this computer's Nix store, read-only" }];
  return request.shares.map((share) => ({
    title: "Share",
    text: `${safeText(share.source)} (${share.readOnly ? "read-only" : "read-write"}, tag ${safeText(share.tag)}): the VM boots only if your config grants it`,
  }));
}

function describeAdmins(request: JoinRequest): string {
  const keys = `${request.adminKeys} ${request.adminKeys === 1 ? "key" : "keys"}`;
  if (request.adminMode === "remote") return `the network's admins over SSH (${keys}), not you`;
  if (request.adminMode === "shared") return `you and the network's admins over SSH (${keys})`;
  return "you";
}
