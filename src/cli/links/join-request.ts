import { readSourceFile } from "../../shared/flake-source/source-files.js";
import type { LockedInputs } from "../../shared/flake-source/locked-inputs.js";
import type { JoinRequest } from "../../shared/join-links/fetched-join.js";
import { shownText } from "../../shared/shown-text.js";
import { ClanError } from "../../shared/errors.js";
import { VmSpec } from "../../shared/vm-spec.js";
import type { NetworkRequest } from "./network-request.js";

// What a fetched network asks of this computer, as data for the join's second question: the VM configs.json
// describes, its inputs, and what it may touch (shares, forwards, network mode). A network built from
// nix/templates gets nix/lib's fixed vm.json (user-mode NAT, no forwards, the store read-only); a flake that
// writes its own keeps it in the source as `vm.json`, read here as data. Either way what the build produces is
// what counts: clan-vmd refuses to boot a generation whose shares the user's config does not grant.

const VM_JSON_LIMIT = 64 * 1024;
/** The description's bounds (fetched-join.ts): what a flake writes beyond them is cut, not refused; it is shown only. */
const MAX_TEXT = 1000;
const MAX_INPUTS = 1000;

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/** The source's own vm.json, if it has one; one that is not a valid vm.json stops the join, naming why. */
export async function readSourceVmSpec(sourcePath: string): Promise<VmSpec | undefined> {
  const text = await readSourceFile(sourcePath, "vm.json", VM_JSON_LIMIT);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ClanError("InvalidArgument", `the flake's vm.json is not JSON: ${shownText((error as Error).message)}`);
  }
  const parsed = VmSpec.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ClanError("InvalidArgument", `the flake's vm.json: field ${shownText(issue?.path.join(".") || "(top level)", 80)}: ${shownText(issue?.message ?? "invalid", 200)}`);
  }
  return parsed.data;
}

export function describeJoinRequest(request: NetworkRequest, locked: LockedInputs, sourceVm: VmSpec | undefined): JoinRequest {
  const entry = request.entry;
  const syncthing = entry?.applications.syncthing;
  const mumble = entry?.applications.mumbleClient;
  const access = sourceVm
    ? {
        accessFrom: "vm.json" as const,
        networkMode: sourceVm.network.mode,
        shares: sourceVm.shares.map((share) => ({ ...share, source: cut(share.source) })),
        forwards: sourceVm.network.forwards,
      }
    : entry
      ? { accessFrom: "configs.json" as const, networkMode: "user" as const, shares: [], forwards: [] }
      : { accessFrom: "unknown" as const, networkMode: "unknown" as const, shares: [], forwards: [] };
  return {
    machine: request.machine,
    machines: request.machines,
    attribute: request.attribute,
    vm: entry ? { memoryMiB: entry.vm.memoryMiB, cores: entry.vm.cores, stateDiskMiB: entry.vm.stateDiskMiB, display: entry.vm.display } : null,
    notDescribed: entry ? null : (request.problem ?? "no configs.json entry"),
    ...access,
    vpn: entry ? entry.networkLayer : "unknown",
    syncedFolders: syncthing?.enable ? syncthing.sharedFolders : [],
    voice: mumble?.enable ? `${mumble.server}:${mumble.port}` : null,
    adminMode: entry ? entry.adminMode : null,
    adminKeys: entry ? entry.adminSshKeys.length : 0,
    inputs: locked.inputs.slice(0, MAX_INPUTS).map((input) => ({ path: cut(input.path), source: cut(input.source), kinds: input.kinds })),
    hasLockFile: locked.hasLockFile,
  };
}
