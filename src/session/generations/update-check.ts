import { loadExeca } from "../../shared/lazy-execa.js";
import { ClanError } from "../../shared/errors.js";
import { fetchFlakeSource } from "../../shared/flake-source/source-fetch.js";

// Whether a network's source has moved past the deployed generation. A git source is asked with
// `git ls-remote` (one round trip, no clone); a local path is copied as a build would copy it (fetchTree only:
// its inputs are not fetched and its Nix is not evaluated).

export async function latestRevision(flakeReference: string): Promise<string> {
  const git = /^git\+((?:https|file):\/\/[^?#]+)(?:\?(.*))?$/.exec(flakeReference);
  if (!git) return (await fetchFlakeSource(flakeReference)).revision;
  const url = git[1]!;
  const query = new URLSearchParams(git[2] ?? "");
  const rev = query.get("rev");
  if (rev) return rev;
  const ref = query.get("ref") ?? "HEAD";
  // "--" ends git's options: neither the URL nor the ref can be read as one.
  const result = await (await loadExeca())("git", ["ls-remote", "--", url, ref], { reject: false, timeout: 30_000 });
  if (result.exitCode !== 0) throw new ClanError("BuildFailed", `git ls-remote ${url} failed: ${result.stderr.trim().split("\n").at(-1)}`);
  const line = result.stdout.split("\n").find((entry) => entry.trim());
  if (!line) throw new ClanError("NotFound", `${url} has no ${ref}`);
  return line.split(/\s+/)[0]!;
}
