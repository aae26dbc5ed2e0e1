import { z } from "zod";
import { ClanError } from "../errors.js";
import { readSourceFile } from "./source-files.js";
import { shownText } from "../shown-text.js";

// The inputs of a network's flake, read from its flake.lock as data. Building the flake fetches every input it
// locks, so an input can reach what the link itself cannot: a `path:` or `git+file:` input copies files of this
// computer into the world-readable store, a `git+ssh:` input runs ssh (with the user's keys and config) to a host
// of the flake's choosing, and an input without a hash is whatever its server sends on the day. These are refused
// unless the user's config allows them (`join.allowInputs`, docs/config.md).

/** What a joined network's flake inputs may be beyond locked, remote and fetched over https (docs/links.md). */
export const JOIN_INPUT_KINDS = ["ssh", "local", "unlocked"] as const;
export type InputKind = (typeof JOIN_INPUT_KINDS)[number];

const LOCK_FILE_LIMIT = 1024 * 1024;

const LockedRef = z.object({ type: z.string().max(64), narHash: z.string().max(128).optional() }).loose();
const LockNode = z
  .object({
    inputs: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    locked: LockedRef.optional(),
    original: z.object({ type: z.string().max(64) }).loose().optional(),
    flake: z.boolean().optional(),
  })
  .loose();
const LockFile = z.object({ version: z.int(), root: z.string(), nodes: z.record(z.string(), LockNode) }).loose();
type LockNode = z.infer<typeof LockNode>;

export interface FlakeInput {
  /** Where it sits: "nixpkgs", or "clan-desktop/nixpkgs" for an input of an input. Flake-controlled. */
  path: string;
  /** Where it is fetched from, as Nix would show it. Flake-controlled. */
  source: string;
  /** What makes it need the user's permission, if anything. */
  kinds: InputKind[];
}

export interface LockedInputs {
  /** False when the source has no flake.lock: Nix locks the inputs its flake.nix declares only when building. */
  hasLockFile: boolean;
  inputs: FlakeInput[];
  /** Each input's `original` entry — the reference flake.nix declared when it was locked — by its path. */
  originals: Map<string, Record<string, unknown>>;
  /** The URLs of the locked inputs, which a build's restricted evaluation may fetch (docs/links.md). */
  urls: string[];
}

export async function readLockedInputs(sourcePath: string): Promise<LockedInputs> {
  const text = await readSourceFile(sourcePath, "flake.lock", LOCK_FILE_LIMIT);
  if (text === undefined) return { hasLockFile: false, inputs: [], originals: new Map(), urls: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ClanError("InvalidArgument", `the flake's flake.lock is not JSON: ${shownText((error as Error).message)}`);
  }
  const parsed = LockFile.safeParse(raw);
  if (!parsed.success) throw new ClanError("InvalidArgument", `the flake's flake.lock is not a Nix lock file: ${shownText(parsed.error.issues[0]?.message ?? "")}`);
  const originals = new Map<string, Record<string, unknown>>();
  const urls = new Set<string>();
  const inputs = walkInputs(parsed.data.nodes, parsed.data.root, (path, node) => {
    if (node.original) originals.set(path, node.original);
    if (typeof node.locked?.url === "string") urls.add(node.locked.url);
  });
  return { hasLockFile: true, inputs, originals, urls: [...urls] };
}

/** Every node reachable from the root, named by its first input path; `follows` entries are links, not nodes. */
function walkInputs(nodes: Record<string, LockNode>, root: string, visit: (path: string, node: LockNode) => void): FlakeInput[] {
  const seen = new Set<string>([root]);
  const found: FlakeInput[] = [];
  const queue: [string, string][] = [[root, ""]];
  while (queue.length > 0) {
    const [key, path] = queue.shift()!;
    const node = nodes[key];
    if (node === undefined) throw new ClanError("InvalidArgument", `the flake's flake.lock names a node ${shownText(key)} that it does not contain`);
    if (key !== root) {
      found.push({ path, source: describeSource(node), kinds: inputKinds(node) });
      visit(path, node);
    }
    for (const [name, target] of Object.entries(node.inputs ?? {})) {
      if (typeof target !== "string" || seen.has(target)) continue;
      seen.add(target);
      queue.push([target, path === "" ? name : `${path}/${name}`]);
    }
  }
  return found;
}

function inputKinds(node: LockNode): InputKind[] {
  const kinds = new Set<InputKind>();
  const locked = node.locked;
  if (!locked || locked.narHash === undefined || locked.type === "indirect") kinds.add("unlocked");
  if (locked && (locked.type === "git" || locked.type === "mercurial") && typeof locked.rev !== "string") kinds.add("unlocked");
  for (const ref of [locked, node.original]) {
    if (ref) for (const kind of referenceKinds(ref)) kinds.add(kind);
  }
  return JOIN_INPUT_KINDS.filter((kind) => kinds.has(kind));
}

/** Whether fetching a reference (a lock entry, or what flake.nix declares) reaches this computer's files or ssh. */
export function referenceKinds(ref: { type: string; url?: unknown }): InputKind[] {
  const url = typeof ref.url === "string" ? ref.url : "";
  const kinds: InputKind[] = [];
  if (/^(ssh|git\+ssh|hg\+ssh|sftp):/.test(url) || /^[^/:]+@[^/:]+:/.test(url)) kinds.push("ssh");
  if (isLocal(ref.type, url)) kinds.push("local");
  return kinds;
}

const HOSTED = ["github", "gitlab", "sourcehut", "indirect"];

/** A path, a file: URL, or a type of input that names no server at all. */
function isLocal(type: string, url: string): boolean {
  if (type === "path") return true;
  if (HOSTED.includes(type)) return false;
  return url === "" || /^(file:|\/|\.)/.test(url);
}

function describeSource(node: LockNode): string {
  const ref = node.locked ?? node.original;
  if (!ref) return "nowhere (no locked or original entry)";
  if (typeof ref.url === "string") return ref.url;
  if (typeof ref.path === "string") return `path:${ref.path}`;
  if (typeof ref.owner === "string" && typeof ref.repo === "string") return `${ref.type}:${ref.owner}/${ref.repo}`;
  if (typeof ref.id === "string") return `flake:${ref.id}`;
  return ref.type;
}

/** Inputs that need a permission the user's config does not give, each with why. */
export function refusedInputs(inputs: FlakeInput[], allowed: readonly InputKind[]): FlakeInput[] {
  return inputs.filter((input) => input.kinds.some((kind) => !allowed.includes(kind)));
}

/** Why each refused input is refused, and how the user may accept such inputs; `outcome` says what did not happen. */
export function describeRefusedInputs(refused: FlakeInput[], outcome: string): string {
  const words: Record<InputKind, string> = {
    ssh: "is fetched over ssh, with your SSH keys, from a host the flake chooses",
    local: "is a file or directory of this computer, which would be copied into the world-readable Nix store",
    unlocked: "has no hash in flake.lock, so it is whatever its server sends",
  };
  const lines = refused.map((input) => `  ${shownText(input.path, 80)} (${shownText(input.source, 160)}) ${input.kinds.map((kind) => words[kind]).join("; it ")}`);
  const kinds = [...new Set(refused.flatMap((input) => input.kinds))];
  return [
    `refused network: its flake has inputs that reach beyond the network's server; ${outcome}:`,
    ...lines,
    `To accept such inputs, add ${JSON.stringify(kinds)} to "join": {"allowInputs": […]} in your config.json (docs/links.md).`,
  ].join("\n");
}
