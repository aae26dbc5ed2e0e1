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

  # Each module imports its file rather than being the path itself: `nix flake check` of Nix 2.8 (Debian 12) accepts
  # only functions and attribute sets as modules, and an import keeps the file's name in NixOS's error messages.
  nixosModules = {
    host = { imports = [ ./host/module.nix ]; };
    guest = { imports = [ ./guest/module.nix ]; };
    default = { imports = [ ./host/module.nix ]; };
  };

  packages = forEachSystem (system:
    let clan-desktop = nixpkgs.legacyPackages.${system}.callPackage ./package.nix { };
    in { inherit clan-desktop; default = clan-desktop; });

  # Named `final` and `prev`: Nix 2.8's `nix flake check` rejects an overlay whose arguments are named otherwise.
  overlays.default = final: prev: { clan-desktop = final.callPackage ./package.nix { }; };

  templates = {
    network = networkTemplate;
    default = networkTemplate;
  };
}
