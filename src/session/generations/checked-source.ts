import { ClanError } from "../../shared/errors.js";
import { describeRefusedInputs, readLockedInputs, refusedInputs, type InputKind } from "../../shared/flake-source/locked-inputs.js";
import { shownText } from "../../shared/shown-text.js";
import { fetchFlakeSource } from "../../shared/flake-source/source-fetch.js";
import { readDeclaredInputs, unlockedDeclaredInputs } from "./declared-inputs.js";

// What a build of a network's flake builds: the revision that was checked, never "the branch, fetched again".
// Every build fetches the source as `clanctl join` does (fetchTree only: nothing evaluated, no lock file written),
// checks that revision's inputs as the join does (flake.lock read as data, plus what flake.nix declares that
// flake.lock does not lock), and hands Nix a reference pinned to that revision: a server that moves its branch
// between the check and the build cannot get anything unchecked built.

export interface CheckedSource {
  /** The flake reference pinned to the checked revision, with the attribute to build. */
  installable: string;
  /** The git commit, or the content hash of a source without one. */
  revision: string;
  /** The checked revision's copy in the Nix store. */
  sourcePath: string;
  lastModified: number;
  /** URLs of the locked inputs: all that the build's restricted evaluation may fetch. */
  inputUrls: string[];
}

/**
 * Fetches `flake` (at `revision` when given: the one the user confirmed at join), refuses it when an input needs a
 * permission `allowed` does not give, and returns the pinned reference to build.
 */
export async function checkSource(flake: string, attribute: string | undefined, allowed: readonly InputKind[], revision?: string): Promise<CheckedSource> {
  const source = await fetchFlakeSource(revision === undefined ? flake : atRevision(flake, revision));
  if (revision !== undefined && source.revision !== revision) {
    throw new ClanError("BuildFailed", `${shownText(flake)} gave revision ${shownText(source.revision)}, not the ${shownText(revision)} asked for; nothing was built`);
  }
  const locked = await readLockedInputs(source.path);
  const declared = unlockedDeclaredInputs(await readDeclaredInputs(source.path), locked);
  const refused = refusedInputs([...locked.inputs, ...declared], allowed);
  if (refused.length > 0) throw new ClanError("BuildFailed", describeRefusedInputs(refused, `nothing was built from revision ${source.revision}`));
  const pinned = source.rev === undefined ? `path:${source.path}?narHash=${encodeURIComponent(source.narHash)}` : atRevision(flake, source.rev);
  return {
    installable: attribute ? `${pinned}#${attribute}` : pinned,
    revision: source.revision,
    sourcePath: source.path,
    lastModified: source.lastModified,
    inputUrls: locked.urls,
  };
}

/** `flake` pinned to a git commit (`?rev=`) or, for a plain directory, to a content hash (`?narHash=`). */
export function atRevision(flake: string, revision: string): string {
  const [base, query = ""] = flake.split("?", 2) as [string, string?];
  const parameters = new URLSearchParams(query);
  if (/^git\+/.test(base) && /^[0-9a-f]{40}$/.test(revision)) parameters.set("rev", revision);
  else if (/^(path:)?\//.test(base) && /^sha256-[A-Za-z0-9+/=]{44}$/.test(revision)) parameters.set("narHash", revision);
  else throw new ClanError("InvalidArgument", `cannot pin ${shownText(flake)} to revision ${shownText(revision)}: a git source takes a commit, a path a sha256- content hash`);
  return `${base}?${parameters.toString()}`;
}
