# The network's applications (services.clan-desktop-guest.applications, the configs.json field of that name).
# An application left out of the config is null here.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  inherit (cfg.applications) syncthing mumbleClient;
  syncthingEnabled = syncthing != null && syncthing.enable;
  mumbleEnabled = mumbleClient != null && mumbleClient.enable;

  # "/shared/docs" → folder id "shared-docs", the same on every member that shares the same path.
  folderId = path: lib.concatStringsSep "-" (lib.filter (part: part != "") (lib.splitString "/" path));

  # The members' VMs are each other's only devices, reached at their address on the network layer.
  syncthingMembers = lib.filterAttrs (_: member: member.syncthingDeviceId != null) cfg.members;
  syncthingAddress = address:
    if lib.hasInfix ":" address then "tcp://[${address}]:22000" else "tcp://${address}:22000";
in
lib.mkIf cfg.enable (lib.mkMerge [
  (lib.mkIf syncthingEnabled {
    services.syncthing = {
      enable = true;
      dataDir = "/var/lib/syncthing";
      openDefaultPorts = false; # members sync through the network layer, opened below
      settings.devices = lib.mapAttrs
        (_: member: {
          id = member.syncthingDeviceId;
          addresses = if member.address == null then [ "dynamic" ] else [ (syncthingAddress member.address) ];
        })
        syncthingMembers;
      settings.folders = lib.listToAttrs (map
        (path: lib.nameValuePair (folderId path) {
          inherit path;
          id = folderId path;
          devices = lib.attrNames syncthingMembers;
        })
        syncthing.sharedFolders);
      # Members find each other in the phonebook (services.clan-desktop-guest.members), over the network layer
      # only: no discovery servers, relays, LAN announcements, port mappings or usage reports.
      settings.options = {
        globalAnnounceEnabled = false;
        localAnnounceEnabled = false;
        relaysEnabled = false;
        natEnabled = false;
        urAccepted = -1;
        listenAddresses = [ "tcp://:22000" ];
      };
    };
    networking.firewall.interfaces = lib.mkIf (cfg.networkInterface != null) {
      ${cfg.networkInterface}.allowedTCPPorts = [ 22000 ];
    };
    systemd.tmpfiles.rules = map (path: "d ${path} 0750 syncthing syncthing - -") syncthing.sharedFolders;
    services.clan-desktop-guest.stateDirectories = [ "/var/lib/syncthing" ] ++ syncthing.sharedFolders;
    services.clan-desktop-guest.readyAfter = [ "syncthing.service" ];
    warnings = lib.optional (syncthing.sharedFolders != [ ] && syncthingMembers == { })
      "clan-desktop network ${cfg.networkName}: syncthing shares its folders with no one: give services.clan-desktop-guest.members their syncthingDeviceId.";
  })

  (lib.mkIf mumbleEnabled {
    environment.systemPackages = [ pkgs.mumble ];
    # A voice chat: a window (waypipe, unless vm.display chose another) and sound through the desktop.
    services.clan-desktop-guest.audio.enable = lib.mkDefault true;
    services.clan-desktop-guest.waypipe.command = lib.mkDefault [
      "${pkgs.mumble}/bin/mumble"
      "mumble://${mumbleClient.server}:${toString mumbleClient.port}"
    ];
  })
])
