# The STAND-INS for what nixpkgs has beyond `lib`, for evaluating nix/'s modules with nixpkgs' real lib.evalModules
# on machines without nixpkgs (test/nix/real-lib.ts unpacks that lib): `pkgs` and the NixOS modules nix/ uses.
{ lib }:
{
  pkgs = import ./pkgs.nix { inherit lib; };
  modules = [ ./nixos-base.nix ./yggdrasil.nix ./syncthing.nix ./wireguard.nix ./openssh.nix ./zerotierone.nix ];
}
