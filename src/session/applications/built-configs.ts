import { lstat, realpath } from "node:fs/promises";
import { join } from "node:path";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { fetchFlakeSource } from "../../shared/flake-source/source-fetch.js";
import { shownText } from "../../shared/shown-text.js";
import { atRevision } from "../generations/checked-source.js";
import { currentGeneration } from "../generations/nix-profile.js";
import { readRevisions, type RevisionRecord } from "../generations/revisions.js";
import { checkConfigsText, readBounded } from "./configs-file-read.js";

// The configs.json of a network whose flake is not the user's own directory (a joined network: its admins'
// repository), shown read-only: the one in the source its current generation was built from, which is what runs.
// That source is the store copy the build recorded, or, when it has none (an older build) or the garbage collector
// took it, the recorded revision fetched again pinned (fetchTree: nothing of the flake is evaluated). Never the
// branch's newest commit, which is not built. The file is the admins' data: a symlink (to /etc/shadow, to the
// user's files) is not followed, a big file is not read, and a file Nix would refuse is not shown, its reason is.

export interface BuiltConfigs {
  /** The checked text; "" when there is none to show. */
  text: string;
  /** Whose it is, and which generation it is shown from, or why nothing is shown. */
  reason: string;
  /** The file in the store, "" before the source is known. */
  path: string;
}

export async function builtConfigs(network: string, flake: string, profile: string): Promise<BuiltConfigs> {
  const whose = /^git\+/.test(flake)
    ? `joined: its admins keep this in ${shownText(flake, 120)}`
    : `its flake ${shownText(flake, 120)} is not in your networks directory: edit it there`;
  const current = await currentGeneration(profile);
  if (!current) return { text: "", reason: `${whose}; ${network} has no generation yet, so no configs.json was built to show`, path: "" };
  const record = (await readRevisions(profile))[current.path];
  if (!record) return { text: "", reason: `${whose}; generation ${current.number} has no recorded source revision (it was not built by clan-sessiond)`, path: "" };
  const generation = `generation ${current.number} (rev ${record.revision.slice(0, 12)})`;
  let path = "";
  try {
    const source = await builtSource(flake, record);
    path = join(source, "configs.json");
    const text = await readBounded(path, join(await realpath(source), "configs.json"));
    if (text === undefined) return { text: "", reason: `${whose}; the source of ${generation} has no configs.json`, path };
    const checked = checkConfigsText(text);
    if (!checked.ok) return { text: "", reason: `${whose}; configs.json of ${generation} is not shown: ${checked.problem}`, path };
    return { text, reason: `${whose}; shown as built in ${generation}`, path };
  } catch (error) {
    return { text: "", reason: `${whose}; configs.json of ${generation} is not shown: ${errorMessage(error)}`, path };
  }
}

/** The store copy of the source `record` was built from: the recorded one if it is still there, else fetched pinned. */
async function builtSource(flake: string, record: RevisionRecord): Promise<string> {
  if (record.sourcePath !== undefined) {
    const recorded = await lstat(record.sourcePath).catch(() => undefined);
    if (recorded?.isDirectory()) return record.sourcePath;
  }
  const fetched = await fetchFlakeSource(atRevision(flake, record.revision));
  if (fetched.revision !== record.revision) {
    throw new ClanError("BuildFailed", `${shownText(flake)} gave revision ${shownText(fetched.revision)}, not the ${shownText(record.revision)} the generation was built from`);
  }
  return fetched.path;
}
