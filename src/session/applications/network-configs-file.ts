import { createHash, randomBytes } from "node:crypto";
import { lstat, realpath, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../../shared/errors.js";
import { configsDiff } from "../../shared/network-configs-diff.js";
import { shownText } from "../../shared/shown-text.js";
import type { NetworkConfig } from "../config/schema.js";
import { builtConfigs } from "./built-configs.js";
import { checkConfigsText, readBounded } from "./configs-file-read.js";

// A network's configs.json, read and written for the manager's Applications form. Where it lives: in the
// network's flake, which nix/templates/network builds from it. clan-sessiond writes only the flakes the user made
// with "New network", in their own networks directory ($XDG_DATA_HOME/clan-desktop/networks/<name>): a network
// joined from a link is built from its admins' repository, fetched into the Nix store, and what it runs is
// theirs to say; a local flake elsewhere is the user's to edit where it is. So the source must be exactly that
// directory, which must be a real directory of this user (no symlink to elsewhere), and configs.json a regular
// file (opened without following a symlink). Writes are atomic (a new file renamed over the old), refused when
// the file changed since the caller read it, and validated with the schema nix/lib validates with. Any other flake
// source is shown read-only, as its current generation was built from it (built-configs.ts).

export interface NetworkConfigsRead {
  /** The file's text; "" when it does not exist yet, or cannot be shown (reason says why). */
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
  /** The network's Nix profile, whose current generation a read-only read shows the source of. */
  profileOf: (network: string, config: NetworkConfig) => string;
}

type FlakeOfNetwork =
  | { kind: "own"; directory: string }
  | { kind: "elsewhere"; flake: string; config: NetworkConfig }
  | { kind: "refused"; reason: string; path: string };

export class NetworkConfigsFiles {
  /** One write at a time per network, so that two saves of one revision cannot both pass the revision check. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly options: NetworkConfigsFileOptions) {}

  /** The directory of the network's flake when clan-sessiond may edit it; else why not. */
  private async flakeOf(network: string): Promise<FlakeOfNetwork> {
    const config = this.options.configOf(network);
    if (!config) throw new ClanError("UnknownNetwork", `no network named ${shownText(network, 64)} in the config`);
    const own = join(this.options.networksDir, network);
    if ("profile" in config.source) {
      return { kind: "refused", reason: `${network} boots the Nix profile ${shownText(config.source.profile)}, built elsewhere: it has no configs.json here`, path: "" };
    }
    const flakePath = /^(path:)?(\/[^?]*)/.exec(config.source.flake)?.[2];
    if (flakePath === undefined || flakePath.replace(/\/+$/, "") !== own) return { kind: "elsewhere", flake: config.source.flake, config };
    const directory = await lstat(own).catch(() => undefined);
    if (!directory?.isDirectory()) return { kind: "refused", reason: `${own} is not a directory${directory?.isSymbolicLink() ? " (it is a symlink)" : ""}`, path: own };
    if (typeof process.getuid === "function" && directory.uid !== process.getuid()) return { kind: "refused", reason: `${own} belongs to another user`, path: own };
    const resolved = await realpath(own);
    if (resolved !== join(await realpath(this.options.networksDir), network)) return { kind: "refused", reason: `${own} leads elsewhere (${shownText(resolved)})`, path: own };
    return { kind: "own", directory: own };
  }

  async read(network: string): Promise<NetworkConfigsRead> {
    const entry = this.entryOf(network);
    const own = await this.flakeOf(network);
    if (own.kind === "refused") return { text: "", revision: "", entry, editable: false, reason: own.reason, path: own.path };
    if (own.kind === "elsewhere") {
      const built = await builtConfigs(network, own.flake, this.options.profileOf(network, own.config));
      return { text: built.text, revision: built.text === "" ? "" : revisionOf(built.text), entry, editable: false, reason: built.reason, path: built.path };
    }
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
    const own = await this.flakeOf(network);
    if (own.kind === "elsewhere") {
      throw new ClanError("InvalidState", `configs.json not saved: ${network}'s configs.json is in its source ${shownText(own.flake)}, which belongs to whoever keeps it (the network's admins for a joined network); clan-sessiond edits only the networks made with New network, in ${join(this.options.networksDir, network)}`);
    }
    if (own.kind === "refused") throw new ClanError("InvalidState", `configs.json not saved: ${own.reason}`);
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

/** The text as configs, or InvalidArgument naming what is wrong. */
function parseConfigs(text: string): unknown {
  const checked = checkConfigsText(text);
  if (!checked.ok) throw new ClanError("InvalidArgument", `configs.json not saved: ${checked.problem}`);
  return checked.configs;
}

/** The old file for the diff: one that was not JSON (a hand edit gone wrong) counts as empty, all of it new. */
function parsedOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
