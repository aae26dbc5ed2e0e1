import { readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasNix, NIX_OPTIONS, nixSkipReason, repositoryRoot } from "./nix.js";
import { hasNixpkgsLib, nixpkgsLibSkipReason, unpackNixpkgsLib } from "./real-lib.js";

// The flake itself, evaluated by the real `nix` (2.8, flakes enabled). nixpkgs cannot be fetched here, so the
// flake's nixpkgs input is locked to a stand-in flake whose outputs throw: everything that evaluates proves it does
// not need nixpkgs, and forcing a package shows the stand-in is really in place. `nix flake check` runs with nixpkgs
// standing in as nixpkgs 25.05's real lib and the stand-in packages of test/nix/nixos-stand-ins. The flake is copied
// (flake.nix, nix/, package.json and its lock) into a temporary path: flake, so that it does not depend on what git
// has staged.

const NIX = ["--extra-experimental-features", "nix-command flakes", ...NIX_OPTIONS];
let root: string;
let flake: string;
let nixpkgsStandIn: string;

beforeAll(async () => {
  if (!hasNix) return;
  root = await mkdtemp(join(tmpdir(), "clan-flake-"));
  flake = join(root, "clan-desktop");
  nixpkgsStandIn = join(root, "nixpkgs-stand-in");
  await mkdir(flake);
  await cp(join(repositoryRoot, "flake.nix"), join(flake, "flake.nix"));
  await cp(join(repositoryRoot, "nix"), join(flake, "nix"), { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) await cp(join(repositoryRoot, file), join(flake, file));
  await mkdir(nixpkgsStandIn);
  await writeFile(join(nixpkgsStandIn, "flake.nix"), '{ outputs = _: throw "the nixpkgs stand-in was forced"; }\n');
  const lock = await nix(["flake", "lock", "--override-input", "nixpkgs", `path:${nixpkgsStandIn}`, `path:${flake}`]);
  if (lock.exitCode !== 0) throw new Error(`nix flake lock failed: ${lock.stderr}`);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function nix(args: string[], cwd = root) {
  return execa("nix", [...NIX, ...args], { cwd, reject: false });
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
    expect(await evalJson(`path:${flake}#nixosModules`, "builtins.mapAttrs (_: module: toString module._file)")).toEqual({
      default: expect.stringMatching(/\/nix\/host\/module\.nix$/),
      host: expect.stringMatching(/\/nix\/host\/module\.nix$/),
      guest: expect.stringMatching(/\/nix\/guest\/module\.nix$/),
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

  it("pins nixos-25.05, the release whose lib the tests use and whose stateVersion the template sets", async () => {
    for (const file of ["flake.nix", "nix/flake.nix"]) {
      expect(readFileSync(join(repositoryRoot, file), "utf8"), file).toContain('inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";');
    }
    expect(readFileSync(join(repositoryRoot, "nix/templates/network/network.nix"), "utf8")).toContain('system.stateVersion = "25.05";');
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

describe.skipIf(!hasNixpkgsLib)(`nix flake check${nixpkgsLibSkipReason}`, () => {
  let nixpkgsLib: { lib: string; remove: () => Promise<void> };
  let standIn: string;

  beforeAll(async () => {
    nixpkgsLib = await unpackNixpkgsLib();
    // A nixpkgs flake of 25.05's real lib and the stand-in packages, copied in: a flake may not reach outside itself.
    standIn = join(root, "nixpkgs-25.05-lib-stand-in");
    await mkdir(standIn);
    await cp(nixpkgsLib.lib, join(standIn, "lib"), { recursive: true });
    await cp(join(repositoryRoot, "test/nix/nixos-stand-ins/pkgs.nix"), join(standIn, "pkgs.nix"));
    await writeFile(
      join(standIn, "flake.nix"),
      `{ outputs = _: let lib = import ./lib; in {
           inherit lib;
           legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: import ./pkgs.nix { inherit lib; });
         }; }\n`,
    );
  });

  afterAll(async () => {
    await nixpkgsLib?.remove();
  });

  it("passes on this Nix: modules, overlay, templates and packages have the shapes Nix requires", async () => {
    // --no-build: the stand-in packages cannot be built, and the VM test (checks) needs nixpkgs to run.
    const check = await nix(["flake", "check", "--no-build", "--no-write-lock-file", "--override-input", "nixpkgs", `path:${standIn}`, `path:${flake}`]);
    expect(check.stderr).not.toMatch(/^error/m);
    expect(check.exitCode).toBe(0);
  });
});
