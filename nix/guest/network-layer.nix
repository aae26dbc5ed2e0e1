# The VPN that joins the network's members. Only the service and where it keeps its identity are set here; peers,
# addresses and network ids belong to the network and are set with the underlying NixOS options
# (services.yggdrasil.settings.Peers, networking.wireguard.interfaces.clan0, services.zerotierone.joinNetworks).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  layer = cfg.networkLayer;
  yggdrasilKeyDirectory = "/var/lib/clan-yggdrasil";
  yggdrasilKeyFile = "${yggdrasilKeyDirectory}/keys.json";
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
      # The node's key is its address, its identity in the network: it is made once and kept on the state disk.
      # Not with the module's persistentKeys: that writes /var/lib/yggdrasil, in memory here, which systemd must
      # then move into /var/lib/private for yggdrasil's DynamicUser (across filesystems when that is on the disk).
      # The module reads configFile, merged over settings, through LoadCredential, as root.
      services.yggdrasil = {
        enable = true;
        persistentKeys = false;
        configFile = yggdrasilKeyFile;
        settings.IfName = "ygg0";
        # Peers are the ones the network names; nothing is found on QEMU's user network.
        settings.MulticastInterfaces = lib.mkDefault [ ];
      };
      systemd.services.clan-yggdrasil-key = {
        description = "Make this network VM's yggdrasil key once, on its state disk";
        requiredBy = [ "yggdrasil.service" ];
        before = [ "yggdrasil.service" ];
        after = [ "clan-state-directories.service" ];
        path = [ config.services.yggdrasil.package pkgs.jq pkgs.coreutils ];
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; UMask = "0077"; };
        script = ''
          if [ ! -s ${yggdrasilKeyFile} ]; then
            yggdrasil -genconf -json | jq 'to_entries | map(select(.key | endswith("Key"))) | from_entries' > ${yggdrasilKeyFile}.new
            mv ${yggdrasilKeyFile}.new ${yggdrasilKeyFile}
          fi
        '';
      };
      services.clan-desktop-guest.stateDirectories = [ yggdrasilKeyDirectory ];
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
