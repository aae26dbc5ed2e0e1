import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { hasBinary, skipReason } from "../helpers/processes.js";

// Runs the real Nix (Debian's nix-bin) on nix/. There is no nixpkgs on these machines: what is evaluated here is
// nix/lib, the flake's outputs that do not force nixpkgs, and the modules and package with nixpkgs 25.05's real lib
// (real-lib.ts) and the named stand-ins of nixos-stand-ins/ for the rest of nixpkgs.

export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));
export const testDirectory = fileURLToPath(new URL(".", import.meta.url));

export const hasNix = hasBinary("nix-instantiate");
export const nixSkipReason = skipReason("nix-instantiate");

/** Options every call needs: no nixbld group here, and a store of our own when not root (Nix would write to /nix). */
export const NIX_OPTIONS = [
  "--option", "build-users-group", "",
  ...(process.getuid?.() === 0 ? [] : ["--store", join(tmpdir(), "clan-desktop-nix-store")]),
];

/** nix-instantiate --eval --strict --json of a file or an expression (-E), with string arguments. */
export async function nixEval(source: { file: string } | { expression: string }, args: Record<string, string> = {}) {
  return execa(
    "nix-instantiate",
    [
      ...NIX_OPTIONS,
      "--eval", "--strict", "--json",
      ...Object.entries(args).flatMap(([name, value]) => ["--argstr", name, value]),
      ...("file" in source ? [source.file] : ["-E", source.expression]),
    ],
    { cwd: repositoryRoot, reject: false },
  );
}

export async function nixEvalJson(source: { file: string } | { expression: string }, args: Record<string, string> = {}): Promise<unknown> {
  const result = await nixEval(source, args);
  if (result.exitCode !== 0) throw new Error(`nix-instantiate failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The first line of Nix's "error: …" on stderr, for evaluations that must fail. */
export async function nixEvalError(source: { file: string } | { expression: string }, args: Record<string, string> = {}): Promise<string> {
  const result = await nixEval(source, args);
  if (result.exitCode === 0) throw new Error(`expected evaluation to fail, it gave ${result.stdout}`);
  const line = /^error: (.*)$/m.exec(result.stderr)?.[1];
  if (line === undefined) throw new Error(`no "error:" line in ${result.stderr}`);
  return line;
}
