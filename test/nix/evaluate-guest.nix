# One network VM of a configs.json, evaluated the way nixpkgs.lib.nixosSystem would: nix/lib's module for the entry
# (which imports nixosModules.guest) plus `network` (what a network.nix adds), through nixpkgs' real
# lib.evalModules, with the named stand-ins of ./nixos-stand-ins for the rest of NixOS. Gives what the tests check.
{ nixpkgsLib, configs, name, network ? "{}" }:
let
  lib = import nixpkgsLib;
  standIns = import ./nixos-stand-ins { inherit lib; };
  entryModule = (import ../../nix/lib).generateNixosModules (builtins.fromJSON configs);
  evaluated = lib.evalModules {
    modules = standIns.modules ++ [
      entryModule.${name}
      (builtins.fromJSON network)
      { _module.args.pkgs = standIns.pkgs; }
    ];
  };
  inherit (evaluated) config;
in
{
  failedAssertions = map (assertion: assertion.message) (lib.filter (assertion: !assertion.assertion) config.assertions);
  inherit (config) warnings fileSystems boot users environment networking services;
  systemd = { inherit (config.systemd) services tmpfiles; };
  systemBuilderCommands = config.system.systemBuilderCommands;
  vmJson = builtins.fromJSON config.system.build.clanVmJson.text;
}
