import { loadExeca } from "../lazy-execa.js";
import { z } from "zod";
import { ClanError } from "../errors.js";
import { shownText } from "../shown-text.js";

// The one thing a join does with a network's flake before the user has seen what it asks for: copy its source
// into the Nix store. `builtins.fetchTree` runs in an expression of ours — the flake's own Nix is not evaluated,
// its inputs are neither locked nor fetched, and no flake.lock is written (`nix flake metadata` and `nix flake
// show` do all three). The source reaches Nix as JSON in an environment variable, never as Nix text.

// tarball-ttl 0: Nix would otherwise answer a branch from its cache for an hour, and a rebuild would miss updates.
const NIX = ["--extra-experimental-features", "nix-command flakes", "--option", "allow-import-from-derivation", "false", "--option", "tarball-ttl", "0"];
const FETCH_TIMEOUT_MS = 5 * 60_000;
const SOURCE_VARIABLE = "CLAN_JOIN_SOURCE";
const FETCH_EXPRESSION = `let tree = builtins.fetchTree (builtins.fromJSON (builtins.getEnv "${SOURCE_VARIABLE}")); in
  { path = tree.outPath; narHash = tree.narHash; rev = tree.rev or null; lastModified = tree.lastModified or null; }`;

const Fetched = z
  .object({
    path: z.string().regex(/^\/nix\/store\/[0-9a-z]{32}-source$/),
    narHash: z.string().max(128),
    rev: z.string().regex(/^[0-9a-f]{40}$/).nullable(),
    lastModified: z.int().nonnegative().nullable(),
  })
  .strict();

export interface FetchedSource {
  /** The source's copy in the store: read as data, never evaluated here. */
  path: string;
  /** The git commit, or the content hash of a source without one. */
  revision: string;
  /** The content hash of the copy (`sha256-…`). */
  narHash: string;
  /** The git commit, when the source is a git revision (not a plain directory or a dirty working tree). */
  rev?: string;
  /** Unix time in ms of the revision, 0 when unknown. */
  lastModified: number;
}

/**
 * fetchTree's attributes for a flake reference that parseJoinLink built (git+https, git+http, git+file, path), or
 * one pinned to a fetched revision (`?rev=` for git, `?narHash=` for a path).
 */
function fetchTreeInput(flake: string): Record<string, string> {
  // config.json also takes a bare absolute path for `path:`.
  const path = /^(?:path:)?(\/[^?#]*)(?:\?([^#]*))?$/.exec(flake);
  if (path) return withParameters(flake, { type: "path", path: path[1]! }, path[2], ["narHash"]);
  const git = /^git\+((?:https?|file):\/\/[^?#]+)(?:\?([^#]*))?$/.exec(flake);
  if (!git) throw new ClanError("InvalidArgument", `cannot fetch ${shownText(flake)}: not a git or path flake reference`);
  return withParameters(flake, { type: "git", url: git[1]! }, git[2], ["ref", "rev"]);
}

function withParameters(flake: string, input: Record<string, string>, query: string | undefined, known: string[]): Record<string, string> {
  for (const [key, value] of new URLSearchParams(query ?? "")) {
    if (!known.includes(key)) throw new ClanError("InvalidArgument", `cannot fetch ${shownText(flake)}: unknown parameter ${shownText(key)}`);
    input[key] = value;
  }
  return input;
}

export async function fetchFlakeSource(flake: string): Promise<FetchedSource> {
  const result = await (await loadExeca())("nix", [...NIX, "eval", "--json", "--impure", "--expr", FETCH_EXPRESSION], {
    env: { [SOURCE_VARIABLE]: JSON.stringify(fetchTreeInput(flake)) },
    reject: false,
    timeout: FETCH_TIMEOUT_MS,
  });
  if (result.timedOut) throw new ClanError("Timeout", `cannot fetch ${flake}: nix took longer than ${FETCH_TIMEOUT_MS / 60_000} minutes`);
  if (result.exitCode !== 0) throw new ClanError("BuildFailed", `cannot fetch ${flake}: ${nixError(result.stderr, result.exitCode)}`);
  const fetched = Fetched.parse(JSON.parse(result.stdout));
  return {
    path: fetched.path,
    revision: fetched.rev ?? fetched.narHash,
    narHash: fetched.narHash,
    ...(fetched.rev === null ? {} : { rev: fetched.rev }),
    lastModified: (fetched.lastModified ?? 0) * 1000,
  };
}

/** Nix's error lines, which quote what the server sent: shown escaped. */
export function nixError(stderr: string, exitCode: number | undefined): string {
  const lines = stderr.replace(/\u001b\[[0-9;]*m/g, "").split("\n").filter((line) => line.includes("error:") || line.startsWith("fatal:"));
  return shownText(lines.join(" ").trim() || stderr.trim().split("\n").at(-1) || `nix exited ${exitCode}`, 600);
}
