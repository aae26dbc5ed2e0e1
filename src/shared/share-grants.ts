import { z } from "zod";
import type { AccessDescription, ForwardAccess } from "./access-lines.js";

// Which host directories a network's VM may see is the user's decision, never the network's: vm.json only asks,
// the user's grants (config.json, or `clanctl vm start --share`) decide. This module is the pure part of that
// decision — matching a share against grants and describing a generation's access — shared by clan-vmd (which
// refuses), clan-sessiond (which publishes) and clanctl (which shows it before a join).

/** An absolute, normalised path: no empty, "." or ".." components, no trailing slash (except "/" itself). */
export const GrantPath = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(/^\/[^\0\n]*$/, "must be an absolute path without NUL or newline")
  // Only absolute paths are judged here: a relative one already has its own error.
  .refine((path) => !path.startsWith("/") || normalisePath(path) === path, {
    error: (issue) => `must be normalised (no "//", ".", ".." or trailing "/"), e.g. ${JSON.stringify(normalisePath(String(issue.input)))}`,
  });

export const ShareGrant = z
  .object({
    path: GrantPath.describe("A host directory the network's VM may share; its whole subtree is covered."),
    readWrite: z.boolean().default(false).describe("Whether the VM may write there; read-only when absent."),
  })
  .strict();
export type ShareGrant = z.output<typeof ShareGrant>;

/** The Nix store share: exempt from grants when read-only, because clan-vmd itself decides what it exposes. */
const STORE_PATH = "/nix/store";

/** Lexical normalisation, for error hints and the schema; symlinks are resolved by the caller (realpath). */
export function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function covers(grantPath: string, path: string): boolean {
  return grantPath === "/" || path === grantPath || path.startsWith(`${grantPath}/`);
}

export interface ShareRequest {
  tag: string;
  source: string;
  readOnly: boolean;
}

export type ShareVerdict =
  /** Covered by a grant that allows what it asks. */
  | { kind: "granted" }
  /** The read-only Nix store share. */
  | { kind: "store" }
  | { kind: "store-read-write" }
  | { kind: "not-granted" }
  /** Covered, but only by read-only grants, and the share asks to write. */
  | { kind: "read-only-grant"; grant: string };

/**
 * The verdict on one share whose source is already resolved (realpath) to `resolvedSource`, against grants whose
 * paths are resolved too. A share is allowed when any grant covering it allows its access: grants only add.
 */
export function judgeShare(share: ShareRequest, resolvedSource: string, grants: readonly ShareGrant[]): ShareVerdict {
  if (share.source === STORE_PATH && resolvedSource === STORE_PATH) return share.readOnly ? { kind: "store" } : { kind: "store-read-write" };
  const covering = grants.filter((grant) => covers(grant.path, resolvedSource));
  if (covering.length === 0) return { kind: "not-granted" };
  if (share.readOnly || covering.some((grant) => grant.readWrite)) return { kind: "granted" };
  return { kind: "read-only-grant", grant: covering[0]!.path };
}

/** Why a share is refused, naming it, its path and the config field that would grant it; undefined when allowed. */
export function describeRefusal(share: ShareRequest, resolvedSource: string, verdict: ShareVerdict, network: string): string | undefined {
  const where = resolvedSource === share.source ? share.source : `${share.source} (which resolves to ${resolvedSource})`;
  const field = `networks.${network}.grants.shares in config.json`;
  switch (verdict.kind) {
    case "granted":
    case "store":
      return undefined;
    case "store-read-write":
      return `share "${share.tag}" asks to write to ${STORE_PATH}; the store is only ever shared read-only`;
    case "not-granted":
      return `share "${share.tag}" of ${where} is not granted: to allow it, add {"path": "${resolvedSource}"} to ${field} (read-only unless "readWrite": true)`;
    case "read-only-grant":
      return `share "${share.tag}" asks to write to ${where}, but ${verdict.grant} is granted read-only: set "readWrite": true on it in ${field} to allow writes, or make the share read-only`;
  }
}

/** The part of a vm.json this description reads: anything shaped like it (the VmSpec, a parsed join preview). */
export interface AccessRequest {
  shares: readonly ShareRequest[];
  network: { mode: string; forwards: readonly ForwardAccess[] };
}

/**
 * What a generation asks of the host, and which shares the user's grants allow — for the join summary,
 * `clanctl status` and the GNOME menu. Lexical: a caller that can resolve symlinks passes `resolve`
 * (clan-vmd's refusal always resolves).
 */
export function describeAccess(vm: AccessRequest, grants: readonly ShareGrant[], resolve: (path: string) => string = normalisePath): AccessDescription {
  return {
    shares: vm.shares.map((share) => {
      const verdict = judgeShare(share, resolve(share.source), grants);
      return { tag: share.tag, path: share.source, readWrite: !share.readOnly, granted: verdict.kind === "granted" || verdict.kind === "store" };
    }),
    forwards: vm.network.forwards.map(({ hostPort, guestPort }) => ({ hostPort, guestPort })),
    networkMode: vm.network.mode,
  };
}
