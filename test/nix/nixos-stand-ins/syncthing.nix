# STAND-IN for nixpkgs 25.05's nixos/modules/services/networking/syncthing.nix: the options nix/ sets, with their
# documented types and defaults (settings is freeform JSON; settings.devices.<name>.id, settings.folders.<name>
# with path, id and devices naming entries of settings.devices), and what its syncthing-init unit sends to
# syncthing's REST API: folder devices resolved by name to their ids (a name missing from settings.devices fails the
# evaluation, as there).
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.services.syncthing;
  json = (pkgs.formats.json { }).type;
  nullable = type: mkOption { type = types.nullOr type; default = null; };
  resolvedFolders = lib.mapAttrsToList
    (_: folder: folder // {
      devices = map (device: { deviceId = cfg.settings.devices.${device}.id; }) folder.devices;
    })
    cfg.settings.folders;
  resolvedDevices = lib.mapAttrsToList (_: device: device // { deviceID = device.id; }) cfg.settings.devices;
in
{
  options.services.syncthing = {
    enable = lib.mkEnableOption "Syncthing";
    cert = nullable types.str;
    key = nullable types.str;
    overrideDevices = mkOption { type = types.bool; default = true; };
    overrideFolders = mkOption { type = types.bool; default = true; };
    dataDir = mkOption { type = types.path; default = "/var/lib/syncthing"; };
    configDir = mkOption { type = types.path; default = "${cfg.dataDir}/.config/syncthing"; };
    openDefaultPorts = mkOption { type = types.bool; default = false; };
    guiAddress = mkOption { type = types.str; default = "127.0.0.1:8384"; };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = json;
        options = {
          options = mkOption {
            default = { };
            type = types.submodule {
              freeformType = json;
              options = {
                localAnnounceEnabled = nullable types.bool;
                localAnnouncePort = nullable types.int;
                relaysEnabled = nullable types.bool;
                urAccepted = nullable types.int;
                limitBandwidthInLan = nullable types.bool;
                maxFolderConcurrency = nullable types.int;
              };
            };
          };
          devices = mkOption {
            default = { };
            type = types.attrsOf (types.submodule ({ name, ... }: {
              freeformType = json;
              options = {
                name = mkOption { type = types.str; default = name; };
                id = mkOption { type = types.str; };
                autoAcceptFolders = mkOption { type = types.bool; default = false; };
              };
            }));
          };
          folders = mkOption {
            default = { };
            type = types.attrsOf (types.submodule ({ name, ... }: {
              freeformType = json;
              options = {
                enable = mkOption { type = types.bool; default = true; };
                path = mkOption { type = types.str; default = name; };
                id = mkOption { type = types.str; default = name; };
                label = mkOption { type = types.str; default = name; };
                type = mkOption { type = types.enum [ "sendreceive" "sendonly" "receiveonly" "receiveencrypted" ]; default = "sendreceive"; };
                devices = mkOption { type = types.listOf types.str; default = [ ]; };
              };
            }));
          };
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.syncthing = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig = { User = "syncthing"; Group = "syncthing"; ExecStart = "syncthing -home=${cfg.configDir}"; };
    };
    systemd.services.syncthing-init = lib.mkIf (cfg.settings != { }) {
      after = [ "syncthing.service" ];
      wantedBy = [ "multi-user.target" ];
      script = builtins.toJSON (cfg.settings // { devices = resolvedDevices; folders = resolvedFolders; });
    };
    users.users.syncthing = { isSystemUser = true; home = cfg.dataDir; };
    users.groups.syncthing = { };
  };
}
