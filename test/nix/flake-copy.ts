import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { NIX_OPTIONS, repositoryRoot } from "./nix.js";

// The repository's flake (flake.nix and nix/) copied into a temporary path: flake, so that it does not depend on
// what git has staged, with its nixpkgs input locked to a stand-in flake: nixpkgs cannot be fetched here.

const NIX = ["--extra-experimental-features", "nix-command flakes", ...NIX_OPTIONS];

export interface NixResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export interface FlakeCopy {
  root: string;
  /** The copy's directory; `path:${flake}` is the installable. */
  flake: string;
  nix(args: string[], cwd?: string): Promise<NixResult>;
  remove(): Promise<void>;
}

/** Copies the flake and locks its nixpkgs to a stand-in whose flake.nix is `standInFlake`. */
export async function copyFlake(standInFlake: string): Promise<FlakeCopy> {
  const root = await mkdtemp(join(tmpdir(), "clan-flake-"));
  const flake = join(root, "clan-desktop");
  const standIn = join(root, "nixpkgs-stand-in");
  await mkdir(flake);
  await cp(join(repositoryRoot, "flake.nix"), join(flake, "flake.nix"));
  await cp(join(repositoryRoot, "nix"), join(flake, "nix"), { recursive: true });
  await mkdir(standIn);
  await writeFile(join(standIn, "flake.nix"), standInFlake);
  const nix = async (args: string[], cwd = root): Promise<NixResult> => {
    const result = await execa("nix", [...NIX, ...args], { cwd, reject: false });
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
  const lock = await nix(["flake", "lock", "--override-input", "nixpkgs", `path:${standIn}`, `path:${flake}`]);
  if (lock.exitCode !== 0) throw new Error(`nix flake lock failed: ${lock.stderr}`);
  return { root, flake, nix, remove: () => rm(root, { recursive: true, force: true }) };
}
