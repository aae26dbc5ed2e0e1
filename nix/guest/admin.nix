# The admin modes of a network VM. local: the desktop's user administers it, with a root console on the VM's
# display and rebuilds from their own flake. remote: the network's admins do, over SSH through the network layer,
# with their keys (adminSshKeys), and publish the network's flake. shared: both.
{ config, lib, ... }:
let
  cfg = config.services.clan-desktop-guest;
  localAdmin = cfg.adminMode == "local" || cfg.adminMode == "shared";
  remoteAdmin = cfg.adminMode == "remote" || cfg.adminMode == "shared";
in
lib.mkIf cfg.enable (lib.mkMerge [
  (lib.mkIf localAdmin {
    # Whoever sees the VM's display is its admin: the host can do anything to the VM anyway.
    services.getty.autologinUser = lib.mkDefault "root";
  })

  (lib.mkIf remoteAdmin {
    services.openssh = {
      enable = true;
      openFirewall = false; # reachable through the network layer only, below
      settings.PasswordAuthentication = false;
      settings.KbdInteractiveAuthentication = false;
      settings.PermitRootLogin = "prohibit-password";
      hostKeys = [{ path = "/var/lib/clan-ssh/ssh_host_ed25519_key"; type = "ed25519"; }];
    };
    networking.firewall.interfaces = lib.mkIf (cfg.networkInterface != null) {
      ${cfg.networkInterface}.allowedTCPPorts = [ 22 ];
    };
    users.users.root.openssh.authorizedKeys.keys = cfg.adminSshKeys;
    # A host key that changes with every boot would teach the admins to ignore SSH's warnings.
    services.clan-desktop-guest.stateDirectories = [ "/var/lib/clan-ssh" ];
    services.clan-desktop-guest.readyAfter = [ "sshd.service" ];

    warnings =
      lib.optional (cfg.networkLayer == "none")
        "clan-desktop network ${cfg.networkName}: adminMode ${cfg.adminMode} lets admins in over SSH through the network layer, but networkLayer is none: nobody can reach SSH."
      ++ lib.optional (config.users.users.root.openssh.authorizedKeys.keys == [ ])
        "clan-desktop network ${cfg.networkName}: adminMode ${cfg.adminMode} without adminSshKeys: no admin can log in over SSH.";
  })
])
