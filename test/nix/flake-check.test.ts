import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFlake, type FlakeCopy } from "./flake-copy.js";
import { atLeast, installedVersion } from "../helpers/versions.js";
import { hasNix, nixSkipReason } from "./nix.js";

// `nix flake check` of the real flake (Nix 2.8 on Debian 12, 2.26 in the Debian 13 lane), without building:
// every output has the shape Nix requires — packages are derivations, nixosModules are modules, the overlay is a
// function of two arguments, templates have a path and a description. nixpkgs cannot be fetched here, so it is
// locked to a stand-in whose callPackage gives a placeholder derivation named after the file it was given: the
// packages' own build recipe (nix/package.nix) is not evaluated, the flake's wiring of it is; likewise the NixOS
// VM test (checks), whose runner is nixpkgs' testers.runNixOSTest.

const STAND_IN = `{
  outputs = _: {
    legacyPackages = builtins.listToAttrs (map (system: {
      name = system;
      value = {
        callPackage = file: _: derivation { name = "stand-in-for-\${baseNameOf file}"; inherit system; builder = "/bin/sh"; };
        testers.runNixOSTest = _: derivation { name = "stand-in-for-a-nixos-test"; inherit system; builder = "/bin/sh"; };
      };
    }) [ "x86_64-linux" "aarch64-linux" ]);
  };
}
`;

// Since Nix 2.13 `nix flake check` looks only at the current system's outputs unless told otherwise; before, at all.
const CHECK = ["flake", "check", "--no-build", ...(atLeast(installedVersion("nix"), [2, 13, 0]) ? ["--all-systems"] : [])];

let copy: FlakeCopy;

beforeAll(async () => {
  if (hasNix) copy = await copyFlake(STAND_IN);
});

afterAll(async () => {
  await copy?.remove();
});

describe.skipIf(!hasNix)(`nix flake check${nixSkipReason}`, () => {
  it("passes on the flake, every system's outputs included", async () => {
    const check = await copy.nix([...CHECK, "--no-write-lock-file", `path:${copy.flake}`]);
    expect(check.exitCode, check.stderr).toBe(0);
    const packages = await copy.nix(["eval", "--json", "--no-write-lock-file", `path:${copy.flake}#packages`, "--apply", "builtins.mapAttrs (_: p: p.default.name)"]);
    expect(JSON.parse(packages.stdout)).toEqual({ "aarch64-linux": "stand-in-for-package.nix", "x86_64-linux": "stand-in-for-package.nix" });
  });

  it("fails, naming the output, when an output has the wrong shape", async () => {
    const outputs = join(copy.flake, "nix/outputs.nix");
    const original = await readFile(outputs, "utf8");
    await writeFile(outputs, original.replace(/overlays\.default = [^;]+;/, 'overlays.default = "not an overlay";'));
    try {
      const check = await copy.nix([...CHECK, "--no-write-lock-file", `path:${copy.flake}`]);
      expect(check.exitCode).not.toBe(0);
      expect(check.stderr).toMatch(/overlays\.default/);
    } finally {
      await writeFile(outputs, original);
    }
  });
});
