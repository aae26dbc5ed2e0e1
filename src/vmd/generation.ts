import { readFile, stat, realpath } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../shared/errors.js";
import { readVmSpec, type VmSpec } from "../shared/vm-spec.js";

// A generation is a directory shaped like a NixOS system.build.toplevel plus vm.json. It is produced by Nix (see
// nix/) and is read-only input: every field is validated before it can reach a QEMU argument.

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
