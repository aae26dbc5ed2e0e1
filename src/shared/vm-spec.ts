import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DisplayKind } from "./display.js";
import { ClanError } from "./errors.js";
import { VpnSpec } from "./vpn-spec.js";

// A generation's vm.json: how clan-vmd runs one generation of a network's VM. The network's Nix module writes it
// (nix/), clan-vmd boots from it and clanctl shows it before a join, so it is a contract between those three and
// hostile input to all of them: every field is validated before it can reach a QEMU argument.

const ShareTag = z.string().regex(/^[A-Za-z0-9_-]{1,36}$/, "a share tag is 1–36 letters, digits, '_' or '-'");
// One pattern rather than a refinement, so that the exported JSON Schema (docs/schemas/vm.schema.json) carries it.
const AbsolutePath = z
  .string()
  .regex(/^\/[^,\0\n]*$/, "must be an absolute path without ',' (QEMU's option separator), NUL or newline");

/** QEMU's virtio-serial bus has 31 ports; the guest agent and the control port take two of them. */
export const MAX_WAYPIPE_PORTS = 16;
const DEFAULT_WAYPIPE_PORTS = 4;

export const VmSpec = z
  .object({
    memoryMiB: z.number().int().min(64).max(65536).default(512),
    cores: z.number().int().min(1).max(64).default(1),
    /** dbus: QEMU's D-Bus display on a private bus clan-vmd makes; vm.json names the kind, never a bus or a path. */
    display: DisplayKind.default("none"),
    /** display waypipe: how many apps the guest may show at once, each on a virtio-serial port of its own. */
    waypipe: z
      .object({ ports: z.number().int().min(1).max(MAX_WAYPIPE_PORTS).default(DEFAULT_WAYPIPE_PORTS) })
      .strict()
      .default({ ports: DEFAULT_WAYPIPE_PORTS }),
    /** host: a sound card whose sound QEMU plays and records through the desktop's PulseAudio (or PipeWire's). */
    audio: z.enum(["none", "host"]).default("none"),
    stateDiskMiB: z.number().int().min(0).max(4 * 1024 * 1024).default(1024),
    shares: z
      .array(z.object({ tag: ShareTag, source: AbsolutePath, readOnly: z.boolean().default(false) }).strict())
      .max(16)
      .default([]),
    network: z
      .object({
        /** vpn: the network's VPN and nothing else (docs/vpn.md); its settings are in `vpn`. */
        mode: z.enum(["user", "none", "vpn"]).default("user"),
        forwards: z
          .array(
            z
              .object({
                hostPort: z.number().int().min(1).max(65535),
                guestPort: z.number().int().min(1).max(65535),
              })
              .strict(),
          )
          .max(32)
          .default([]),
        vpn: VpnSpec.optional(),
      })
      .strict()
      .refine((network) => (network.mode === "vpn") === (network.vpn !== undefined), {
        message: 'network.vpn is required with mode "vpn", and only then',
        path: ["vpn"],
      })
      .default({ mode: "user", forwards: [] }),
    /** What proves the guest is up: our VM controller's message on the control port, or a guest-agent ping. */
    readiness: z.enum(["control-port", "guest-agent"]).default("control-port"),
    readyTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /** Where the generation came from (a flake revision), for `clanctl generations`. */
    sourceRevision: z.string().max(128).optional(),
  })
  .strict();
export type VmSpec = z.infer<typeof VmSpec>;

export async function readVmSpec(file: string): Promise<VmSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ClanError("InvalidGeneration", `${file}: ${error instanceof SyntaxError ? error.message : "cannot be read"}`, {
      cause: error,
    });
  }
  const parsed = VmSpec.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(top level)";
    throw new ClanError("InvalidGeneration", `${file}: field ${field}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
