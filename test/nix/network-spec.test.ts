import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkNetworkConfigs, describeNetworkSpecProblem } from "../../src/shared/network-spec.js";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { hasNix, nixEvalError, nixEvalJson, nixSkipReason, repositoryRoot, testDirectory } from "./nix.js";

// Every example configs.json goes through zod (what a wizard runs) and through the real Nix (nix/lib), and both must
// accept the same files with the same defaults, and reject the same files naming the same entry and field in the
// same words. Good examples also pin down, exactly, the NixOS option values and the vm.json each entry becomes.

const examplesDirectory = join(testDirectory, "examples");
const examples = readdirSync(examplesDirectory).filter((file) => file.endsWith(".json")).sort();
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));

interface GoodOutcome {
  configs: unknown;
  networkOptions: unknown;
  vmSpecs: Record<string, unknown>;
  packages: unknown;
}

describe.skipIf(!hasNix)(`configs.json examples through zod and Nix${nixSkipReason}`, () => {
  it("has good and bad examples, the seeds' among them", () => {
    expect(examples).toContain("good-seeds.json");
    expect(examples.filter((file) => file.startsWith("bad-")).length).toBeGreaterThan(20);
  });

  for (const example of examples.filter((file) => file.startsWith("good-"))) {
    it(`${example}: both accept it, with the same defaults, and Nix makes exactly the expected options`, async () => {
      const file = join(examplesDirectory, example);
      const zod = checkNetworkConfigs(readJson(file));
      const nix = (await nixEvalJson({ file: join(testDirectory, "evaluate-example.nix") }, { file })) as GoodOutcome;
      const expected = readJson(join(testDirectory, "expected", example)) as GoodOutcome;

      expect(zod.ok ? zod.configs : zod.problems).toEqual(nix.configs);
      expect(nix).toEqual(expected);
      // vm.json leaves out audio when there is none and waypipe's port count when the display is not waypipe: zod's defaults.
      for (const spec of Object.values(nix.vmSpecs)) expect(VmSpec.parse(spec)).toEqual({ audio: "none", waypipe: { ports: 4 }, ...(spec as object) });
    });
  }

  for (const example of examples.filter((file) => file.startsWith("bad-"))) {
    it(`${example}: both reject it, naming the same entry and field`, async () => {
      const file = join(examplesDirectory, example);
      const zod = checkNetworkConfigs(readJson(file));
      const { problem } = readJson(join(testDirectory, "expected", example)) as { problem: string };

      expect(zod.ok ? "accepted" : zod.problems.map(describeNetworkSpecProblem)).toEqual([problem]);
      expect(await nixEvalJson({ file: join(testDirectory, "evaluate-example.nix") }, { file })).toEqual({ problem });
      // What a network admin sees: evaluating the modules fails with the same words.
      const thrown = await nixEvalError(
        { expression: "{ file }: builtins.attrNames ((import ./nix/lib).generateNixosModules (builtins.fromJSON (builtins.readFile file)))" },
        { file },
      );
      expect(thrown).toBe(`clan-desktop network configs: ${problem}`);
    });
  }
});

describe.skipIf(!hasNix)(`lib.generateNixosModules and mkNetworkVMs${nixSkipReason}`, () => {
  const seeds = join(examplesDirectory, "good-seeds.json");

  it("makes one module per entry that imports nixosModules.guest and sets its options", async () => {
    const modules = await nixEvalJson(
      {
        expression: `{ file }: let clan = import ./nix/lib; modules = clan.generateNixosModules (builtins.fromJSON (builtins.readFile file));
          in builtins.mapAttrs (_: module: module // { imports = map toString module.imports; }) modules`,
      },
      { file: seeds },
    );
    const expected = readJson(join(testDirectory, "expected", "good-seeds.json")) as GoodOutcome;
    expect(modules).toEqual({
      default: {
        _file: 'clan-desktop network configs, entry "default"',
        imports: [join(repositoryRoot, "nix/guest/module.nix")],
        config: (expected.networkOptions as Record<string, unknown>)["default"],
      },
    });
  });

  it("passes each network's module and its extra modules to nixpkgs.lib.nixosSystem", async () => {
    // A fake nixpkgs whose nixosSystem returns its arguments: the real one needs nixpkgs, which is not here.
    const systems = await nixEvalJson(
      {
        expression: `{ file }: let
            clan = import ./nix/lib;
            fakeNixpkgs.lib.nixosSystem = arguments: map (module: module._file or module) arguments.modules;
            configs = builtins.fromJSON (builtins.readFile file);
          in {
            all = clan.mkNetworkVMs {
              nixpkgs = fakeNixpkgs; inherit configs; sharedModules = [ "shared module" ]; modules.default = [ "extra module" ];
            };
            one = clan.mkNetworkVM { nixpkgs = fakeNixpkgs; name = "club"; config = { system = "aarch64-linux"; }; };
          }`,
      },
      { file: seeds },
    );
    expect(systems).toEqual({
      all: { default: ['clan-desktop network configs, entry "default"', "shared module", "extra module"] },
      one: ['clan-desktop network configs, entry "club"'],
    });
  });

  it("mkNetworkVM validates a network described in Nix like a configs.json entry", async () => {
    const message = await nixEvalError({
      expression: `(import ./nix/lib).mkNetworkVM {
          nixpkgs = throw "not reached"; name = "club"; config = { system = "x86_64-linux"; vm.cores = 0; }; }`,
    });
    expect(message).toBe('clan-desktop network configs: entry "club", field "vm.cores": must be at least 1');
  });
});
