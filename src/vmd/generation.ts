import { readFile, readlink, stat, realpath } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ClanError } from "../shared/errors.js";
import { VmDisplay } from "../shared/vm-api.js";
import { VpnSpec } from "./vpn/vpn-spec.js";

// A generation is a directory shaped like a NixOS system.build.toplevel plus vm.json. It is produced by Nix (see
// nix/) and is read-only input: every field is validated before it can reach a QEMU argument.

const ShareTag = z.string().regex(/^[A-Za-z0-9_-]{1,36}$/, "a share tag is 1–36 letters, digits, '_' or '-'");
// One pattern rather than a refinement, so that the exported JSON Schema (docs/schemas/vm.schema.json) carries it.
const AbsolutePath = z
  .string()
  .regex(/^\/[^,\0\n]*$/, "must be an absolute path without ',' (QEMU's option separator), NUL or newline");

export const VmSpec = z
  .object({
    memoryMiB: z.number().int().min(64).max(65536).default(512),
    cores: z.number().int().min(1).max(64).default(1),
    /** dbus: QEMU's D-Bus display on a private bus clan-vmd makes; vm.json names the kind, never a bus or a path. */
    display: VmDisplay.default("none"),
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

export interface Generation {
  /** The directory as given (may be a profile link). */
  path: string;
  /** The directory after following links: what actually boots. */
  resolvedPath: string;
  kernel: string;
  initrd: string;
  kernelParams: string;
  vm: VmSpec;
}

const KERNEL_PARAMS_LIMIT = 4096;

export async function loadGeneration(path: string): Promise<Generation> {
  let resolvedPath: string;
  try {
    resolvedPath = await realpath(path);
  } catch (error) {
    throw new ClanError("InvalidGeneration", `generation ${path} does not exist`, { cause: error });
  }
  const kernel = join(resolvedPath, "kernel");
  const initrd = join(resolvedPath, "initrd");
  await requireFile(kernel, "kernel");
  await requireFile(initrd, "initrd");
  const kernelParams = await readKernelParams(join(resolvedPath, "kernel-params"));
  const vm = await readVmSpec(join(resolvedPath, "vm.json"));
  return { path, resolvedPath, kernel, initrd, kernelParams, vm };
}

async function requireFile(file: string, what: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new ClanError("InvalidGeneration", `generation is missing its ${what}: ${file}`);
}

async function readKernelParams(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new ClanError("InvalidGeneration", `generation is missing kernel-params: ${file}`, { cause: error });
  });
  const params = text.trim();
  if (params.length > KERNEL_PARAMS_LIMIT) {
    throw new ClanError("InvalidGeneration", `${file}: kernel-params is longer than ${KERNEL_PARAMS_LIMIT} characters`);
  }
  if (/[\0\n\r]/.test(params)) throw new ClanError("InvalidGeneration", `${file}: kernel-params must be one line`);
  return params;
}

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

/** For messages and `clanctl vm list`: the generation link's own name when it is one, else the path. */
export async function describeGenerationLink(path: string): Promise<string> {
  return readlink(path).catch(() => path);
}
