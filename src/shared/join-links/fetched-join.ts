import { z } from "zod";
import { DisplayKind } from "../display.js";
import { JOIN_INPUT_KINDS } from "../flake-source/locked-inputs.js";
import { NetworkName } from "../network-name.js";
import { LINK_MAX_LENGTH, MachineName } from "./join-link.js";

// A join in two steps that a caller (the manager window) runs one after the other: `clanctl join --fetch-only`
// fetches the source and prints this description of what was fetched and what the network asks for; after the
// user has seen it, `clanctl join --build-fetched` registers and builds exactly that revision. It crosses a
// process boundary twice, so both ends parse it. Strings from the flake (input names, paths) are as the flake
// wrote them: whoever shows them escapes them.

const Revision = z.string().regex(/^([0-9a-f]{40}|sha256-[A-Za-z0-9+/]{43}=)$/, "a git commit or a sha256 narHash");

const FlakeText = z.string().max(1000);

export const JoinRequest = z
  .object({
    machine: MachineName,
    /** The machines configs.json describes for this computer's system. */
    machines: z.array(MachineName).max(256),
    /** What config.json's `attribute` gets: packages.<system>.<machine>. */
    attribute: z.string().regex(/^packages\.(x86_64|aarch64)-linux\.[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
    /** The VM configs.json describes; null when it describes none (then `notDescribed` says why). */
    vm: z.object({ memoryMiB: z.int(), cores: z.int(), stateDiskMiB: z.int(), display: DisplayKind }).strict().nullable(),
    notDescribed: FlakeText.nullable(),
    /** Where shares, forwards and network mode were read: a vm.json in the source, configs.json (nix/lib's fixed
     *  vm.json), or nowhere (known only once built). */
    accessFrom: z.enum(["vm.json", "configs.json", "unknown"]),
    networkMode: z.enum(["user", "none", "vpn", "unknown"]),
    vpn: z.string().max(64),
    shares: z.array(z.object({ tag: z.string().max(64), source: FlakeText, readOnly: z.boolean() }).strict()).max(16),
    forwards: z.array(z.object({ hostPort: z.int(), guestPort: z.int() }).strict()).max(32),
    syncedFolders: z.array(FlakeText).max(64),
    voice: FlakeText.nullable(),
    adminMode: z.enum(["local", "remote", "shared"]).nullable(),
    adminKeys: z.int().nonnegative(),
    inputs: z.array(z.object({ path: FlakeText, source: FlakeText, kinds: z.array(z.enum(JOIN_INPUT_KINDS)) }).strict()).max(1000),
    hasLockFile: z.boolean(),
  })
  .strict();
export type JoinRequest = z.infer<typeof JoinRequest>;

export const FetchedJoin = z
  .object({
    /** The link as the user gave it (trimmed). */
    link: z.string().max(LINK_MAX_LENGTH),
    /** The flake reference config.json gets, as parsed from the link. */
    flake: z.string().max(LINK_MAX_LENGTH),
    /** What was fetched: the git commit, or the narHash of a source without one. The build is of exactly this. */
    revision: Revision,
    narHash: z.string().max(128),
    /** The revision's date, Unix ms; 0 when unknown. */
    revisionDate: z.int().nonnegative(),
    /** The fetched copy in the store (read as data, never evaluated). */
    storePath: z.string().regex(/^\/nix\/store\/[0-9a-z]{32}-source$/),
    name: NetworkName,
    workspace: z.string().min(1).max(64),
    colour: z.string().regex(/^#[0-9a-fA-F]{6}$/),
    request: JoinRequest,
  })
  .strict();
export type FetchedJoin = z.infer<typeof FetchedJoin>;
