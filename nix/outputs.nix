# The outputs of clan-desktop's flake, for the repository's flake.nix and nix/flake.nix. Only `packages` and
# `overlays` use nixpkgs: `lib`, `nixosModules` and `templates` evaluate where nixpkgs cannot even be fetched.
{ nixpkgs, ... }:
let
  systems = [ "x86_64-linux" "aarch64-linux" ];
  forEachSystem = makeOutputs:
    builtins.listToAttrs (map (system: { name = system; value = makeOutputs system; }) systems);
  networkTemplate = {
    path = ./templates/network;
    description = "A clan-desktop network: its VMs in configs.json, turned into NixOS generations clan-vmd boots";
  };
in
{
  lib = import ./lib;

  nixosModules = {
    host = ./host/module.nix;
    guest = ./guest/module.nix;
    default = ./host/module.nix;
  };

  packages = forEachSystem (system:
    let clan-desktop = nixpkgs.legacyPackages.${system}.callPackage ./package.nix { };
    in { inherit clan-desktop; default = clan-desktop; });

  overlays.default = final: _previous: { clan-desktop = final.callPackage ./package.nix { }; };

  templates = {
    network = networkTemplate;
    default = networkTemplate;
  };
}
