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
in
lib.mkIf cfg.enable (lib.mkMerge [
  (lib.mkIf syncthingEnabled {
    services.syncthing = {
      enable = true;
      dataDir = "/var/lib/syncthing";
      openDefaultPorts = false; # members sync through the network layer, opened below
      settings.folders = lib.listToAttrs (map
        (path: lib.nameValuePair (folderId path) { inherit path; id = folderId path; })
        syncthing.sharedFolders);
    };
    networking.firewall.interfaces = lib.mkIf (cfg.networkInterface != null) {
      ${cfg.networkInterface} = { allowedTCPPorts = [ 22000 ]; allowedUDPPorts = [ 22000 21027 ]; };
    };
    systemd.tmpfiles.rules = map (path: "d ${path} 0750 syncthing syncthing - -") syncthing.sharedFolders;
    services.clan-desktop-guest.stateDirectories = [ "/var/lib/syncthing" ] ++ syncthing.sharedFolders;
    services.clan-desktop-guest.readyAfter = [ "syncthing.service" ];
  })

  (lib.mkIf mumbleEnabled {
    environment.systemPackages = [ pkgs.mumble ];
    services.clan-desktop-guest.waypipe.command = lib.mkDefault [
      "${pkgs.mumble}/bin/mumble"
      "mumble://${mumbleClient.server}:${toString mumbleClient.port}"
    ];
  })
])
