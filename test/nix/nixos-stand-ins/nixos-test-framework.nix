# STAND-IN for what nixpkgs' NixOS test framework (nixos/lib/testing, nixos/modules/virtualisation/qemu-vm.nix)
# declares for a test's nodes, with the types NixOS 25.05 documents; the VMs it would boot are not here.
{ lib, name, ... }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    virtualisation.emptyDiskImages = mkOption { type = types.listOf types.ints.positive; default = [ ]; };
    virtualisation.fileSystems = mkOption { type = types.attrsOf (types.attrsOf types.anything); default = { }; };
    networking.primaryIPAddress = mkOption { type = types.str; default = "192.168.1.${if name == "alice" then "1" else "2"}"; };
  };
}
