# nixosModules.guest: what runs inside a clan-desktop network VM. Every generation of a system with
# services.clan-desktop-guest.enable is a directory clan-vmd boots (see machine.nix and docs/nix.md).
{
  imports = [
    ./options.nix
    ./machine.nix
    ./controller.nix
    ./network-layer.nix
    ./admin.nix
    ./applications.nix
    ./waypipe.nix
    ./names.nix
    ./audio.nix
  ];
}
