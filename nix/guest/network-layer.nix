# The VPN that joins the network's members. Only the service and where it keeps its identity are set here; peers,
# addresses and network ids belong to the network and are set with the underlying NixOS options
# (services.yggdrasil.settings.Peers, networking.wireguard.interfaces.clan0, services.zerotierone.joinNetworks).
{ config, lib, ... }:
let
  cfg = config.services.clan-desktop-guest;
  layer = cfg.networkLayer;
in
{
  options.services.clan-desktop-guest.networkInterface = lib.mkOption {
    type = lib.types.nullOr lib.types.str;
    readOnly = true;
    default = { yggdrasil = "ygg0"; wireguard = "clan0"; zerotier = "zt+"; none = null; }.${layer};
    description = "The network layer's interface (a firewall pattern for zerotier), where the network's members reach this VM.";
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    (lib.mkIf (layer == "yggdrasil") {
      services.yggdrasil = {
        enable = true;
        persistentKeys = true; # the node's address is its identity in the network
        settings.IfName = "ygg0";
      };
      # yggdrasil runs with DynamicUser: its state is under /var/lib/private, which must stay 0700 as a whole.
      services.clan-desktop-guest.stateDirectories = [ "/var/lib/private" ];
      services.clan-desktop-guest.readyAfter = [ "yggdrasil.service" ];
    })

    (lib.mkIf (layer == "wireguard") {
      networking.wireguard.interfaces.clan0 = {
        privateKeyFile = "/var/lib/wireguard/clan0.key";
        generatePrivateKeyFile = true;
      };
      services.clan-desktop-guest.stateDirectories = [ "/var/lib/wireguard" ];
      services.clan-desktop-guest.readyAfter = [ "wireguard-clan0.service" ];
    })

    (lib.mkIf (layer == "zerotier") {
      services.zerotierone.enable = true;
      services.clan-desktop-guest.stateDirectories = [ "/var/lib/zerotier-one" ];
      services.clan-desktop-guest.readyAfter = [ "zerotierone.service" ];
    })
  ]);
}
