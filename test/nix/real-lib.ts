import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { hasNix, nixSkipReason, repositoryRoot } from "./nix.js";

// nixpkgs 25.05's real `lib` (commit 07aef7aa761e3dc12736495b6d67b424e4818839), shipped as a tarball in the shared/
// folder beside the checkout (shared/nix/README.md), or wherever NIXPKGS_LIB_TARBALL points. With it the tests
// evaluate nix/'s modules with the real lib.evalModules and option types; what nixpkgs has beyond lib is the named
// stand-ins of test/nix/nixos-stand-ins. Without the tarball only the tests that need it are skipped, saying so.

const tarball = process.env["NIXPKGS_LIB_TARBALL"] ?? resolve(repositoryRoot, "../shared/nix/nixpkgs-lib-25.05.tar.gz");

export const hasNixpkgsLib = hasNix && existsSync(tarball);
export const nixpkgsLibSkipReason = !hasNix
  ? nixSkipReason
  : hasNixpkgsLib
    ? ""
    : ` [skipped: nixpkgs 25.05's lib not found at ${tarball} — put shared/ beside the checkout or set NIXPKGS_LIB_TARBALL]`;

/** Unpacks the tarball into a fresh directory; gives the path to import as `lib` and a cleanup. */
export async function unpackNixpkgsLib(): Promise<{ lib: string; remove: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), "clan-nixpkgs-lib-"));
  await execa("tar", ["xzf", tarball, "-C", directory]);
  const lib = join(directory, "nixpkgs-lib/lib");
  if (!existsSync(join(lib, "default.nix"))) throw new Error(`${tarball} holds no nixpkgs-lib/lib/default.nix`);
  return { lib, remove: () => rm(directory, { recursive: true, force: true }) };
}
