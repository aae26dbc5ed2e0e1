import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { hasNix, NIX_OPTIONS, nixSkipReason, repositoryRoot } from "./nix.js";

// Every .nix file of the flake must at least parse: most of nix/ needs nixpkgs to evaluate, which is not here.

function nixFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? nixFiles(join(directory, entry.name)) : entry.name.endsWith(".nix") ? [join(directory, entry.name)] : [],
  );
}

const files = [join(repositoryRoot, "flake.nix"), ...nixFiles(join(repositoryRoot, "nix")), ...nixFiles(join(repositoryRoot, "test/nix"))];

describe.skipIf(!hasNix)(`.nix files${nixSkipReason}`, () => {
  it("include the flake, the modules, the lib and the template", () => {
    const names = files.map((file) => relative(repositoryRoot, file));
    for (const expected of ["flake.nix", "nix/flake.nix", "nix/lib/default.nix", "nix/host/module.nix", "nix/guest/module.nix", "nix/templates/network/flake.nix"]) {
      expect(names).toContain(expected);
    }
  });

  for (const file of files) {
    it(`${relative(repositoryRoot, file)} parses`, async () => {
      const result = await execa("nix-instantiate", [...NIX_OPTIONS, "--parse", file], { reject: false });
      expect(result.stderr.split("\n").filter((line) => line.startsWith("error"))).toEqual([]);
      expect(result.exitCode).toBe(0);
    });
  }
});
