# What every VM of this network has beyond configs.json: the network layer's peers or keys, more services,
# directories to keep on the state disk (services.clan-desktop-guest.stateDirectories).
{ ... }:
{
  # The NixOS release whose state formats this network's state disks use; keep it when you update nixpkgs.
  system.stateVersion = "25.05";

  # configs.json chose yggdrasil: the peers that join the members (your own, or public ones).
  services.yggdrasil.settings.Peers = [ ];

  # The members' VMs: their names in the network (<name>, <name>.<network>.clan), and the devices syncthing shares
  # the folders with. Add each member once their VM has shown its yggdrasil address and syncthing device id.
  services.clan-desktop-guest.members = {
    # alice = { address = "200:…"; syncthingDeviceId = "XXXXXXX-…"; };
  };
}
