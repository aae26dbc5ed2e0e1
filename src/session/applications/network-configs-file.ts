import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, realpath, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CONFIGS_MAX_CHARS } from "../../shared/applications-api.js";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { configsDiff } from "../../shared/network-configs-diff.js";
import { checkNetworkConfigs, describeNetworkSpecProblem } from "../../shared/network-spec.js";
import { shownText } from "../../shared/shown-text.js";
import type { NetworkConfig } from "../config/schema.js";

// A network's configs.json, read and written for the manager's Applications form. Where it lives: in the
// network's flake, which nix/templates/network builds from it. clan-sessiond writes only the flakes the user made
// with "New network", in their own networks directory ($XDG_DATA_HOME/clan-desktop/networks/<name>): a network
// joined from a link is built from its admins' repository, fetched into the Nix store, and what it runs is
// theirs to say; a local flake elsewhere is the user's to edit where it is. So the source must be exactly that
// directory, which must be a real directory of this user (no symlink to elsewhere), and configs.json a regular
// file (opened without following a symlink). Writes are atomic (a new file renamed over the old), refused when
// the file changed since the caller read it, and validated with the schema nix/lib validates with.

/** A bigger file is refused before it is parsed. */
const CONFIGS_MAX_BYTES = CONFIGS_MAX_CHARS;
const MAX_PROBLEMS_SHOWN = 5;

export interface NetworkConfigsRead {
  /** The file's text; "" when it is not editable or does not exist yet. */
  text: string;
  /** sha256 of the text read ("" for no file): SetNetworkApplications writes only over this revision. */
  revision: string;
  /** The entry of configs.json that this network builds (the last part of its source's attribute). */
  entry: string;
  editable: boolean;
  /** Why it is not editable, "" when it is. */
  reason: string;
  path: string;
}

export interface NetworkConfigsWrite {
  revision: string;
  /** configsDiff of the file before and after. */
  diff: string[];
}

export interface NetworkConfigsFileOptions {
  /** The user's networks directory, $XDG_DATA_HOME/clan-desktop/networks. */
  networksDir: string;
  configOf: (network: string) => NetworkConfig | undefined;
}

export class NetworkConfigsFiles {
  /** One write at a time per network, so that two saves of one revision cannot both pass the revision check. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly options: NetworkConfigsFileOptions) {}

  /** The directory of the network's flake when clan-sessiond may edit it; else why not. */
  private async ownFlake(network: string): Promise<{ directory: string } | { reason: string; path: string }> {
    const config = this.options.configOf(network);
    if (!config) throw new ClanError("UnknownNetwork", `no network named ${shownText(network, 64)} in the config`);
    const own = join(this.options.networksDir, network);
    if ("profile" in config.source) {
      return { reason: `${network} boots the Nix profile ${shownText(config.source.profile)}, built elsewhere: it has no configs.json here`, path: "" };
    }
    const flakePath = /^(path:)?(\/[^?]*)/.exec(config.source.flake)?.[2];
    if (flakePath === undefined || flakePath.replace(/\/+$/, "") !== own) {
      return {
        reason: `${network}'s configs.json is in its source ${shownText(config.source.flake)}, which belongs to whoever keeps it (the network's admins for a joined network); clan-sessiond edits only the networks made with New network, in ${own}`,
        path: "",
      };
    }
    const directory = await lstat(own).catch(() => undefined);
    if (!directory?.isDirectory()) return { reason: `${own} is not a directory${directory?.isSymbolicLink() ? " (it is a symlink)" : ""}`, path: own };
    if (typeof process.getuid === "function" && directory.uid !== process.getuid()) return { reason: `${own} belongs to another user`, path: own };
    const resolved = await realpath(own);
    if (resolved !== join(await realpath(this.options.networksDir), network)) return { reason: `${own} leads elsewhere (${shownText(resolved)})`, path: own };
    return { directory: own };
  }

  async read(network: string): Promise<NetworkConfigsRead> {
    const entry = this.entryOf(network);
    const own = await this.ownFlake(network);
    if ("reason" in own) return { text: "", revision: "", entry, editable: false, reason: own.reason, path: own.path };
    const path = join(own.directory, "configs.json");
    const text = await readBounded(path);
    return { text: text ?? "", revision: text === undefined ? "" : revisionOf(text), entry, editable: true, reason: "", path };
  }

  /** Validates `text`, and writes it when the file is still at `expectedRevision`. */
  write(network: string, text: string, expectedRevision: string): Promise<NetworkConfigsWrite> {
    const previous = this.writes.get(network) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.writeNow(network, text, expectedRevision));
    this.writes.set(network, next);
    return next;
  }

  private async writeNow(network: string, text: string, expectedRevision: string): Promise<NetworkConfigsWrite> {
    const own = await this.ownFlake(network);
    if ("reason" in own) throw new ClanError("InvalidState", `configs.json not saved: ${own.reason}`);
    const after = parseConfigs(text);
    const path = join(own.directory, "configs.json");
    const current = await readBounded(path);
    const currentRevision = current === undefined ? "" : revisionOf(current);
    if (currentRevision !== expectedRevision) {
      throw new ClanError("InvalidState", `configs.json not saved: ${path} changed since it was read (now revision ${currentRevision.slice(0, 12) || "none"}); read it again and redo the change`);
    }
    const temporary = join(own.directory, `.configs.json.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(temporary, text, { mode: 0o644, flag: "wx" });
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    return { revision: revisionOf(text), diff: configsDiff(current === undefined ? {} : parsedOrEmpty(current), after) };
  }

  private entryOf(network: string): string {
    const source = this.options.configOf(network)?.source;
    const attribute = source && "flake" in source ? source.attribute : undefined;
    return attribute?.split(".").at(-1) ?? network;
  }
}

function revisionOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The file's text; undefined when it does not exist. Refuses a symlink, a non-file and an oversized file. */
async function readBounded(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new ClanError("InvalidState", `${path} is a symlink; clan-sessiond reads and writes only a regular configs.json`);
    throw new ClanError("InvalidState", `cannot read ${path}: ${errorMessage(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ClanError("InvalidState", `${path} is not a regular file`);
    if (info.size > CONFIGS_MAX_BYTES) throw new ClanError("InvalidState", `${path} is ${info.size} bytes, more than the ${CONFIGS_MAX_BYTES} a configs.json may have`);
    const buffer = Buffer.alloc(CONFIGS_MAX_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > CONFIGS_MAX_BYTES) throw new ClanError("InvalidState", `${path} grew past ${CONFIGS_MAX_BYTES} bytes while it was read`);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** The text as configs, or InvalidArgument naming the entry and field of each problem (as Nix would). */
function parseConfigs(text: string): unknown {
  if (text.length > CONFIGS_MAX_BYTES) throw new ClanError("InvalidArgument", `configs.json not saved: ${text.length} characters, more than ${CONFIGS_MAX_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ClanError("InvalidArgument", `configs.json not saved: not JSON: ${shownText(errorMessage(error), 200)}`);
  }
  const checked = checkNetworkConfigs(raw);
  if (!checked.ok) {
    const shown = checked.problems.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => shownText(describeNetworkSpecProblem(problem), 300));
    const more = checked.problems.length > MAX_PROBLEMS_SHOWN ? `; and ${checked.problems.length - MAX_PROBLEMS_SHOWN} more` : "";
    throw new ClanError("InvalidArgument", `configs.json not saved: ${shown.join("; ")}${more}`);
  }
  return raw;
}

/** The old file for the diff: one that was not JSON (a hand edit gone wrong) counts as empty, all of it new. */
function parsedOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
