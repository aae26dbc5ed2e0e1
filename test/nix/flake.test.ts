import { readFileSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFlake, type FlakeCopy } from "./flake-copy.js";
import { hasNix, nixSkipReason, repositoryRoot } from "./nix.js";

// The flake itself, evaluated by the real `nix` (2.8 on Debian 12, 2.26 in the Debian 13 lane; flakes enabled).
// nixpkgs cannot be fetched here, so the flake's nixpkgs input is locked to a stand-in flake whose outputs throw:
// everything that evaluates proves it does not need nixpkgs, and forcing a package shows the stand-in is really in
// place.

let copy: FlakeCopy;
let root: string;
let flake: string;

beforeAll(async () => {
  if (!hasNix) return;
  copy = await copyFlake('{ outputs = _: throw "the nixpkgs stand-in was forced"; }\n');
  ({ root, flake } = copy);
});

afterAll(async () => {
  await copy?.remove();
});

async function nix(args: string[], cwd = root) {
  return copy.nix(args, cwd);
}

async function evalJson(installable: string, apply: string, lockFlags: string[] = []): Promise<unknown> {
  const result = await nix(["eval", "--json", "--no-write-lock-file", ...lockFlags, installable, "--apply", apply]);
  if (result.exitCode !== 0) throw new Error(`nix eval ${installable} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const readJsonFile = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));

/** A Nix string literal holding `text` (JSON without \u escapes or "${"). */
function nixString(text: string): string {
  return JSON.stringify(text).replaceAll("${", "\\${");
}

describe.skipIf(!hasNix)(`the flake${nixSkipReason}`, () => {
  it("has lib, nixosModules (host, guest), packages and templates, and all but the packages evaluate without nixpkgs", async () => {
    expect(await evalJson(`path:${flake}#lib`, "builtins.attrNames")).toEqual(
      expect.arrayContaining(["generateNixosModules", "mkNetworkVM", "mkNetworkVMs", "validateNetworkConfigs"]),
    );
    expect(await evalJson(`path:${flake}#nixosModules`, "builtins.mapAttrs (_: module: map toString module.imports)")).toEqual({
      default: [expect.stringMatching(/\/nix\/host\/module\.nix$/)],
      host: [expect.stringMatching(/\/nix\/host\/module\.nix$/)],
      guest: [expect.stringMatching(/\/nix\/guest\/module\.nix$/)],
    });
    expect(await evalJson(`path:${flake}#templates`, "builtins.mapAttrs (_: template: template.description)")).toEqual({
      default: expect.stringContaining("configs.json"),
      network: expect.stringContaining("configs.json"),
    });
    expect(await evalJson(`path:${flake}#packages`, "builtins.mapAttrs (_: builtins.attrNames)")).toEqual({
      "aarch64-linux": ["clan-desktop", "default"],
      "x86_64-linux": ["clan-desktop", "default"],
    });
  });

  it("validates configs through its lib output, as nix/lib does", async () => {
    const configs = JSON.stringify({ default: { system: "x86_64-linux", networkLayer: "yggdrasil", vm: { cores: 99 } } });
    const checked = await evalJson(`path:${flake}#lib`, `lib: lib.checkNetworkConfigs (builtins.fromJSON ${nixString(configs)})`);
    expect(checked).toEqual({ ok: false, problem: 'entry "default", field "vm.cores": must be at most 64' });
  });

  it("needs nixpkgs for its package, and only there", async () => {
    const result = await nix(["eval", "--no-write-lock-file", `path:${flake}#packages.x86_64-linux.default`]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("the nixpkgs stand-in was forced");
  });

  it("gives a network template whose flake turns configs.json into modules and packages", async () => {
    const network = join(root, "family-network");
    await mkdir(network);
    const init = await nix(["flake", "init", "-t", `path:${flake}#network`], network);
    expect(init.exitCode, init.stderr).toBe(0);
    expect((await readdir(network)).sort()).toEqual(["configs.json", "flake.nix", "network.nix"]);

    const seeds = readJsonFile(join(repositoryRoot, "test/nix/expected/good-seeds.json")) as { networkOptions: unknown };
    // Its clan-desktop input is the copy, whose nixpkgs is the stand-in.
    const useCopy = ["--override-input", "clan-desktop", `path:${flake}`];
    expect(await evalJson(`path:${network}#nixosModules`, "builtins.mapAttrs (_: module: module.config)", useCopy)).toEqual(seeds.networkOptions);
    expect(await evalJson(`path:${network}#packages`, "builtins.mapAttrs (_: builtins.attrNames)", useCopy)).toEqual({ "x86_64-linux": ["default"] });
    expect(await evalJson(`path:${network}#nixosConfigurations`, "builtins.attrNames", useCopy)).toEqual(["default"]);
  });
});
