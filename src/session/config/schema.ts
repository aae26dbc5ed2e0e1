import { z } from "zod";
import { NetworkName } from "../../shared/network-name.js";
import { quoteWorkspaceName, UnsafeCommandArgumentError } from "../../sway/commands.js";
import { JOIN_INPUT_KINDS } from "../../shared/flake-source/locked-inputs.js";
import { ShareGrant } from "../../shared/share-grants.js";
import { VmOverrides } from "../../shared/vm-api.js";
import { BackupConfig } from "./backup-schema.js";

// The schema of the user's config.json, the one source of truth for its shape: types are inferred from it and the
// JSON Schema in docs/schemas/ is generated from it. Defaults are applied here so that code reading a parsed
// config never has to know them.

export { NetworkName };

// Text that is drawn by the host (title prefix, bar) or sent to sway/i3 and D-Bus. C0/C1 controls include newlines
// and tabs; lone surrogates are not valid UTF-8 and D-Bus refuses them; line/paragraph separators break lines;
// bidirectional overrides and isolates would let text reorder the prefix that is meant to be unfakeable.
const CONTROL_CHARACTERS = String.raw`\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069`;
const WITHOUT_CONTROL_CHARACTERS = new RegExp(`^[^${CONTROL_CHARACTERS}]*$`, "u");
const ANY_CONTROL_CHARACTER = new RegExp(`[${CONTROL_CHARACTERS}]`, "gu");

/** Quotes a user-supplied value for an error message: shortened, so a 10k-character value cannot flood a log
 *  line, and with every character that could break or reorder the line escaped. */
function quoteForMessage(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const quoted = JSON.stringify(text.length > 48 ? `${text.slice(0, 48)}…` : text);
  return quoted.replace(ANY_CONTROL_CHARACTER, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function displayText(maxLength: number) {
  return z
    .string()
    .min(1, "must not be empty")
    .max(maxLength, `must be at most ${maxLength} characters`)
    .regex(WITHOUT_CONTROL_CHARACTERS, "must not contain control characters (newlines, tabs, bidi overrides, …)");
}

// A name is refused here, where the user reads the error, rather than when a window of the network could not be
// placed or decorated. The same rules whatever the window manager, so that a config works on sway, i3 and GNOME.
const WorkspaceName = displayText(128)
  .superRefine((name, context) => {
    for (const dialect of ["sway", "i3"] as const) {
      try {
        quoteWorkspaceName(name, dialect);
      } catch (error) {
        if (!(error instanceof UnsafeCommandArgumentError)) throw error;
        // Reported by displayText's own checks, with the config's wording.
        if (error.reason === "control-character" || error.reason === "too-long" || error.reason === "empty") return;
        context.addIssue({ code: "custom", message: `${quoteForMessage(name)} cannot be a workspace name: ${workspaceNameProblem(error)}` });
        return;
      }
    }
  })
  .describe('A sway/i3 workspace name exactly as the window manager shows it, e.g. "3:family".');

function workspaceNameProblem(error: UnsafeCommandArgumentError): string {
  switch (error.reason) {
    case "dollar-sign":
      return "sway expands '$' as a config variable, so no command can name it exactly";
    case "both-quote-kinds":
      return "sway cannot quote a name that contains both ' and \"";
    case "trailing-backslash":
      return "sway would read its final backslash as escaping the closing quote";
    case "reserved-word":
      return "sway reads it as a keyword (next, prev, current, number, back_and_forth, …) or an internal workspace (__…, --…)";
    default:
      return error.message;
  }
}

/** sway and i3 look workspaces up ignoring ASCII case: "Work" and "work" are one workspace to them. */
function workspaceKey(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

const Colour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, { error: (issue) => `must be a colour "#rrggbb", got ${quoteForMessage(issue.input)}` })
  // Lowercase so that "#FFAA00" → "#ffaa00" is not reported as a change.
  .toLowerCase();

const AbsolutePath = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(/^\//, { error: (issue) => `must be an absolute path, got ${quoteForMessage(issue.input)}` })
  .regex(WITHOUT_CONTROL_CHARACTERS, "must not contain control characters");

// Only sources that nix fetches without running other programs on the user's behalf (no git+ssh, whose URL could
// carry ssh options); git+file is a local repository, read by git itself. The attribute has its own field so that a "#" in the reference cannot smuggle a second one.
// Plain http only to a Yggdrasil address (200::/7): that address is its node's key, and the traffic is encrypted
// end to end (docs/links.md).
const FlakeReference = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(/^(git\+https:\/\/[^\s#]+|git\+http:\/\/\[[23][0-9a-f]{0,2}:[0-9a-f:]+\]\/[^\s#]+|git\+file:\/\/\/[^\s#]+|path:\/[^\s#]*|\/[^\s#]*)$/, {
    error: (issue) =>
      `must be "git+https://…", "git+http://[<yggdrasil address>]/…", "git+file:///…", "path:/…" or an absolute path, without spaces or "#" (put the attribute in "attribute"), got ${quoteForMessage(issue.input)}`,
  });

const AttributePath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/, {
    error: (issue) => `must be a dotted attribute path such as "packages.x86_64-linux.family", got ${quoteForMessage(issue.input)}`,
  });

const NetworkSource = z.union(
  [
    z
      .object({ profile: AbsolutePath.describe("A Nix profile link whose generations the daemon boots.") })
      .strict(),
    z
      .object({
        flake: FlakeReference.describe("A flake reference: git+https://…, git+file:///…, path:/… or an absolute path."),
        attribute: AttributePath.optional().describe("The attribute of the flake that builds the network's generation."),
      })
      .strict(),
  ],
  { error: 'must be {"profile": "/absolute/path"} or {"flake": "…", "attribute": "…"}' },
);


// Upper bounds keep the delays below setTimeout's limit (2^31 ms ≈ 24.8 days), beyond which timers fire at once.
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

// What the network's VM may reach of this host. vm.json only asks; these are the user's answer (docs/config.md).
const Grants = z
  .object({
    shares: z
      .array(ShareGrant)
      .max(64, "must list at most 64 grants")
      .default([])
      .describe("Host directories the VM may share (each with its subtree); the Nix store needs none."),
  })
  .strict();

const LeavePolicy = z.discriminatedUnion(
  "action",
  [
    z.object({ action: z.literal("keep") }).strict(),
    z.object({ action: z.literal("pause") }).strict(),
    z
      .object({
        action: z.literal("stop"),
        afterSeconds: z.int().min(0).max(MAX_DELAY_SECONDS).describe("Seconds after leaving before the VM stops."),
      })
      .strict(),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? '"action" must be "keep", "pause" or "stop"'
        : 'must be an object such as {"action": "pause"}',
  },
);

const UpdatePolicy = z
  .object({
    check: z.boolean().default(true).describe("Ask the network's source for a newer revision every updateCheckMinutes."),
    rebuild: z.boolean().default(false).describe("Rebuild and boot the network as soon as a check finds a newer revision."),
  })
  .strict();

const NetworkInput = z
  .object({
    label: displayText(64).optional().describe("Text of the window title prefix and the bar; defaults to the network's name."),
    workspaces: z.array(WorkspaceName).min(1, "must list at least one workspace").describe("Workspaces that belong to this network."),
    colour: Colour.describe('The network\'s colour, "#rrggbb".'),
    source: NetworkSource.describe("Where the network's generations come from."),
    vm: VmOverrides.default({}).describe("Overrides of the generation's vm.json."),
    grants: Grants.default({ shares: [] }).describe("What the VM may reach of this host; nothing when absent."),
    onLeave: LeavePolicy.default({ action: "pause" }).describe("What happens to the VM when you leave its workspaces."),
    stopWhenIdleMinutes: z
      .int()
      .min(1)
      .max(MAX_DELAY_SECONDS / 60)
      .nullable()
      .default(null)
      .describe("Stop the VM after this many minutes without a visit; null or absent: never."),
    backup: BackupConfig.optional().describe("Backups of the network VM's state disk with restic; none when absent."),
    updates: UpdatePolicy.prefault({}).describe("Whether clan-sessiond looks for updates of this network, and rebuilds by itself when it finds one."),
  })
  .strict();

const Networks = z
  .record(NetworkName, NetworkInput, {
    error: (issue) =>
      issue.code === "invalid_key"
        ? `invalid network name ${quoteForMessage(issue.input)}: ${issue.issues[0]?.message ?? "not an identifier"}`
        : undefined,
  })
  .superRefine((networks, context) => {
    const ownerOf = new Map<string, { network: string; spelling: string }>();
    for (const [name, network] of Object.entries(networks)) {
      network.workspaces.forEach((workspace, index) => {
        const key = workspaceKey(workspace);
        const owner = ownerOf.get(key);
        if (owner === undefined) {
          ownerOf.set(key, { network: name, spelling: workspace });
          return;
        }
        const sameAs = owner.spelling === workspace ? "" : ` (sway and i3 ignore case: it is the same workspace as ${quoteForMessage(owner.spelling)})`;
        context.addIssue({
          code: "custom",
          path: [name, "workspaces", index],
          message:
            owner.network === name
              ? `workspace ${quoteForMessage(workspace)} is listed twice in network "${name}"${sameAs}`
              : `workspace ${quoteForMessage(workspace)} of network "${name}" already belongs to network "${owner.network}"${sameAs}`,
        });
      });
    }
  })
  .transform((networks) => {
    // A null prototype: looking up an unconfigured name such as "constructor" must give undefined, not a function.
    const withLabels: Record<string, NetworkConfig> = Object.create(null);
    for (const [name, network] of Object.entries(networks)) withLabels[name] = { ...network, label: network.label ?? name };
    return withLabels;
  })
  .describe("The networks, by name: a lowercase letter, then up to 30 lowercase letters, digits or '-'.");

const JoinPolicy = z
  .object({
    allowInputs: z
      .array(z.enum(JOIN_INPUT_KINDS))
      .max(JOIN_INPUT_KINDS.length)
      .default([])
      .describe(
        "Flake inputs that `clanctl join` and every build accept although they reach beyond the network's server: ssh (git+ssh, fetched with your SSH keys), " +
          "local (path:, git+file:, file:// — files of this computer copied into the world-readable Nix store), unlocked (no hash in flake.lock).",
      ),
  })
  .strict();

export const ConfigSchema = z
  .object({
    $schema: z.string().optional().describe("The JSON Schema of this file, for editors; ignored by clan-sessiond."),
    networks: Networks,
    switchDebounceMs: z
      .int()
      .min(0)
      .max(5000)
      .default(150)
      .describe("How long a workspace must stay focused before its network is entered, in milliseconds."),
    updateCheckMinutes: z
      .int()
      .min(5)
      .max(MAX_DELAY_SECONDS / 60)
      .default(60)
      .describe("How often clan-sessiond asks each network's flake source whether a newer revision exists."),
    join: JoinPolicy.prefault({}).describe("What `clanctl join` accepts from a network's flake."),
    notifications: z
      .boolean()
      .default(true)
      .describe("Desktop notifications of job outcomes and backups; security warnings are shown either way."),
  })
  .strict();

export type NetworkSource = z.output<typeof NetworkSource>;

/** What Start gets for a network: the user's overrides of vm.json and the user's grants. */
export function vmStartOptions(network: NetworkConfig): VmOverrides & { shareGrants: ShareGrant[] } {
  return { ...network.vm, shareGrants: network.grants.shares };
}
export type LeavePolicy = z.output<typeof LeavePolicy>;
export type Grants = z.output<typeof Grants>;
export type NetworkConfig = Omit<z.output<typeof NetworkInput>, "label"> & { label: string };
export type Config = z.output<typeof ConfigSchema>;
/** What a user may write: fields with defaults are optional. */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The config in force before any file was loaded: no networks, every default. */
export function emptyConfig(): Config {
  return ConfigSchema.parse({ networks: {} });
}
