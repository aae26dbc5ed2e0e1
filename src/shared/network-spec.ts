import { z } from "zod";
import { DisplayKind } from "./display.js";
import { NETWORK_NAME_PATTERN } from "./network-name.js";

// configs.json: network VMs as a wizard or an admin describes them; nix/lib turns each entry into a NixOS module
// (lib.generateNixosModules). This zod schema is the only definition of the format. Its JSON Schema export
// (nix/lib/network-configs.schema.json) is what the Nix validator interprets, and both sides word their problems
// the same way (describeNetworkSpecProblem here, formatProblem in nix/lib), so a wizard and Nix never disagree.
//
// The Nix interpreter (nix/lib/json-schema.nix) understands a small subset of JSON Schema, so this file keeps to:
// strict objects, string enums, booleans, integer ranges, arrays with a maximum length, and ASCII strings with a
// maximum length and an anchored pattern that is also a POSIX extended regex (no \d, no lookaround, "/" as [/]).
// Checks abort on their first failure so that a field has one problem, as in Nix.

/** A string matching a pattern, whose message Nix shows too (it is exported as patternMessage). The length limit
 *  comes first, so that no regex ever runs on a huge string; a pattern that bounds the length itself needs none. */
function patterned(pattern: RegExp, message: string, maxLength?: number) {
  const string = maxLength === undefined ? z.string() : z.string().max(maxLength, { abort: true });
  return string.regex(pattern, { message, abort: true }).meta({ patternMessage: message });
}

const SYSTEMS = ["x86_64-linux", "aarch64-linux"] as const;
const ADMIN_MODES = ["local", "remote", "shared"] as const;
const NETWORK_LAYERS = ["yggdrasil", "wireguard", "zerotier", "none"] as const;

const EntryName = patterned(
  NETWORK_NAME_PATTERN,
  "invalid network name: a lowercase letter, then up to 30 lowercase letters, digits or '-'",
);

// Parts may not start with '.', which rules out "." and ".." and keeps folders out of hidden places.
const SharedFolder = patterned(
  /^([/][A-Za-z0-9_-][A-Za-z0-9._-]*)+$/,
  "must be an absolute path of letters, digits, '.', '_' and '-' whose parts do not start with '.'",
  255,
);

const HOST_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const ServerHost = patterned(
  new RegExp(`^(${HOST_LABEL}([.]${HOST_LABEL})*|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*)$`),
  "must be a host name, an IPv4 address or an IPv6 address without brackets or port",
  253,
);

const SshPublicKey = patterned(
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh[.]com|sk-ecdsa-sha2-nistp256@openssh[.]com) [A-Za-z0-9+/]+={0,3}( [ -~]*)?$/,
  'must be one line of an SSH public key, such as "ssh-ed25519 AAAA… admin@example"',
  8192,
);

const Syncthing = z
  .object({
    enable: z.boolean().default(true).describe("Whether syncthing runs; false keeps the folders configured but idle."),
    sharedFolders: z
      .array(SharedFolder)
      .max(64)
      .default([])
      .describe("Folders inside the VM, on its state disk, that syncthing shares with the network's other members."),
  })
  .strict();

const MumbleClient = z
  .object({
    enable: z.boolean().default(true).describe("Whether the client is installed and offered to the desktop."),
    server: ServerHost.describe("The network's mumble server, usually reached through the network layer."),
    port: z.int().min(1).max(65535).default(64738).describe("The server's port."),
  })
  .strict();

const Applications = z
  .object({
    syncthing: Syncthing.optional().describe("File sync between the network's members."),
    mumbleClient: MumbleClient.optional().describe("Voice chat with the network's mumble server."),
  })
  .strict();

// Defaults suit a small NixOS guest; the ranges stay inside the generation contract's (src/shared/vm-spec.ts).
const VmResources = z
  .object({
    memoryMiB: z.int().min(256).max(65536).default(1024).describe("Memory of the VM in MiB."),
    cores: z.int().min(1).max(64).default(1).describe("Virtual CPU cores."),
    stateDiskMiB: z
      .int()
      .min(0)
      .max(4 * 1024 * 1024)
      .default(1024)
      .describe("Size of the disk that keeps the VM's state across generations; 0: no state disk."),
    display: DisplayKind.default("none").describe("How the VM's windows reach the desktop."),
  })
  .strict();

export const NetworkEntry = z
  .object({
    system: z.enum(SYSTEMS).describe("The platform of the VM, which is the platform of the computers it runs on."),
    adminMode: z
      .enum(ADMIN_MODES)
      .default("local")
      .describe("Who administers the VM: the desktop's user (local), the network's admins over SSH (remote), or both (shared)."),
    adminSshKeys: z
      .array(SshPublicKey)
      .max(32)
      .default([])
      .describe("SSH public keys of the network's admins, for the remote and shared modes."),
    networkLayer: z.enum(NETWORK_LAYERS).default("none").describe("The VPN that joins the network's members."),
    applications: Applications.prefault({}).describe("The network's applications in the VM."),
    vm: VmResources.prefault({}).describe("Resources of the VM, written to the generation's vm.json."),
  })
  .strict();

const NetworkConfigs = z
  .record(EntryName, NetworkEntry)
  .describe("Network VMs by network name, as lib.generateNixosModules of clan-desktop's flake takes them.");

export type NetworkEntry = z.output<typeof NetworkEntry>;
export type NetworkConfigs = z.output<typeof NetworkConfigs>;
/** What a wizard writes: fields with defaults may be left out. */
export type NetworkConfigsInput = z.input<typeof NetworkConfigs>;

export const NETWORK_CONFIGS_SCHEMA_ID = "urn:clan-desktop:schema:network-configs";

/** The JSON Schema of configs.json, as a wizard writes it (zod's input side: fields with defaults are optional). */
export function networkConfigsJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(NetworkConfigs, { io: "input", target: "draft-2020-12" });
  return {
    $schema,
    $id: NETWORK_CONFIGS_SCHEMA_ID,
    title: "clan-desktop network configs",
    ...generated,
  };
}

/** The text of nix/lib/network-configs.schema.json, which nix/lib reads. */
export function renderNetworkConfigsJsonSchema(): string {
  return `${JSON.stringify(networkConfigsJsonSchema(), null, 2)}\n`;
}

/** One problem of a configs.json, located as Nix locates it: the entry (network) and the field inside it. */
export interface NetworkSpecProblem {
  /** The entry's name; undefined when the whole document is wrong. */
  entry?: string;
  /** Dotted path inside the entry, with [i] for list items; "" for the entry itself. */
  field: string;
  message: string;
}

export type NetworkSpecResult =
  | { readonly ok: true; readonly configs: NetworkConfigs }
  | { readonly ok: false; readonly problems: NetworkSpecProblem[] };

export function checkNetworkConfigs(raw: unknown): NetworkSpecResult {
  const parsed = NetworkConfigs.safeParse(raw);
  if (parsed.success) return { ok: true, configs: parsed.data };
  const problems: NetworkSpecProblem[] = [];
  const seen = new Set<string>();
  for (const issue of parsed.error.issues) {
    for (const { path, message } of issueProblems(issue, raw)) {
      // zod may add range checks after a type error on the same value; Nix stops at the first, and so do we.
      const key = JSON.stringify(path);
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(locate(path, message));
    }
  }
  return { ok: false, problems };
}

/** The words Nix throws after "clan-desktop network configs: ". */
export function describeNetworkSpecProblem({ entry, field, message }: NetworkSpecProblem): string {
  if (entry === undefined) return message;
  return `entry ${JSON.stringify(entry)}${field === "" ? "" : `, field ${JSON.stringify(field)}`}: ${message}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  int: "an integer",
  number: "an integer",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  array: "a list",
};

type Path = readonly PropertyKey[];

function issueProblems(issue: z.core.$ZodIssue, raw: unknown): { path: Path; message: string }[] {
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && isMissing(raw, issue.path)) {
    return [{ path: issue.path, message: "is required" }];
  }
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: "unknown field" }));
    case "invalid_key":
      return [{ path: issue.path, message: issue.issues[0]?.message ?? "invalid name" }];
    case "invalid_type":
      return [{ path: issue.path, message: `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}` }];
    case "invalid_value":
      return [{ path: issue.path, message: `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}` }];
    case "too_big":
    case "too_small":
      return [{ path: issue.path, message: rangeMessage(issue) }];
    default:
      return [{ path: issue.path, message: issue.message }];
  }
}

function rangeMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const [bound, limit] = issue.code === "too_big" ? ["at most", issue.maximum] : ["at least", issue.minimum];
  if (issue.origin === "array") return `must have ${bound} ${limit} items`;
  if (issue.origin === "string") return `must be ${bound} ${limit} characters`;
  return `must be ${bound} ${limit}`;
}

function isMissing(raw: unknown, path: Path): boolean {
  if (path.length === 0) return false;
  let value = raw;
  for (const key of path.slice(0, -1)) value = (value as Record<PropertyKey, unknown>)[key];
  return typeof value === "object" && value !== null && !Object.hasOwn(value, path[path.length - 1] as PropertyKey);
}

function locate(path: Path, message: string): NetworkSpecProblem {
  if (path.length === 0) return { field: "", message };
  const [entry, ...field] = path;
  const dotted = field.map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`)).join("");
  return { entry: String(entry), field: dotted, message };
}
