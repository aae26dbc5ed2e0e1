# The outputs of clan-desktop's flake, for the repository's flake.nix and nix/flake.nix. Only `packages` and
# `overlays` use nixpkgs: `lib`, `nixosModules` and `templates` evaluate where nixpkgs cannot even be fetched.
{ nixpkgs, ... }:
let
  systems = [ "x86_64-linux" "aarch64-linux" ];
  forEachSystem = makeOutputs:
    builtins.listToAttrs (map (system: { name = system; value = makeOutputs system; }) systems);
  hostModule = { _file = ./host/module.nix; imports = [ ./host/module.nix ]; };
  networkTemplate = {
    path = ./templates/network;
    description = "A clan-desktop network: its VMs in configs.json, turned into NixOS generations clan-vmd boots";
  };
in
{
  lib = import ./lib;

  # Modules as attribute sets that import the files, not paths: `nix flake check` of Nix 2.8 accepts only
  # functions and attribute sets, and _file keeps error messages pointing at the file.
  nixosModules = {
    host = hostModule;
    guest = { _file = ./guest/module.nix; imports = [ ./guest/module.nix ]; };
    default = hostModule;
  };

  packages = forEachSystem (system:
    let clan-desktop = nixpkgs.legacyPackages.${system}.callPackage ./package.nix { };
    in { inherit clan-desktop; default = clan-desktop; });

  # The NixOS VM test of two members' network VMs (nix/tests/network-vm.nix); the seeds' VMs are x86_64.
  checks.x86_64-linux.network-vm =
    nixpkgs.legacyPackages.x86_64-linux.testers.runNixOSTest (import ./tests/network-vm.nix { clanLib = import ./lib; });

  # Named `final` and `prev`: Nix 2.8's `nix flake check` rejects an overlay whose arguments are named otherwise.
  overlays.default = final: prev: { clan-desktop = final.callPackage ./package.nix { }; };

  templates = {
    network = networkTemplate;
    default = networkTemplate;
  };
}
