# STAND-IN for nixpkgs 25.05's nixos/modules/services/networking/yggdrasil.nix: its options with their documented
# types and defaults, and the part of its config that decides where keys live. With persistentKeys, a root oneshot
# (yggdrasil-persistent-keys) writes /var/lib/yggdrasil/keys.json; yggdrasil itself runs with DynamicUser and
# StateDirectory=yggdrasil (so systemd wants /var/lib/yggdrasil to be a link into /var/lib/private), and reads
# configFile through LoadCredential, merged over settings.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.services.yggdrasil;
  keysPath = "/var/lib/yggdrasil/keys.json";
in
{
  options.services.yggdrasil = {
    enable = lib.mkEnableOption "the yggdrasil system service";
    settings = mkOption { type = (pkgs.formats.json { }).type; default = { }; };
    configFile = mkOption { type = types.nullOr types.path; default = null; };
    group = mkOption { type = types.nullOr types.str; default = null; };
    openMulticastPort = mkOption { type = types.bool; default = false; };
    denyDhcpcdInterfaces = mkOption { type = types.listOf types.str; default = [ ]; };
    package = mkOption { type = types.package; default = pkgs.yggdrasil; };
    persistentKeys = lib.mkEnableOption "persistent keys, stored at ${keysPath}";
    extraArgs = mkOption { type = types.listOf types.str; default = [ ]; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{ assertion = config.networking.enableIPv6; message = "networking.enableIPv6 must be true for yggdrasil to work"; }];
    systemd.services.yggdrasil-persistent-keys = lib.mkIf cfg.persistentKeys {
      wantedBy = [ "multi-user.target" ];
      before = [ "yggdrasil.service" ];
      serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
      script = "[ -e ${keysPath} ] || { mkdir --mode=700 -p ${dirOf keysPath}; yggdrasil -genconf -json | jq … > ${keysPath}; }";
    };
    systemd.services.yggdrasil = {
      wantedBy = [ "multi-user.target" ];
      script = "(settings${lib.optionalString (cfg.configFile != null) " + $CREDENTIALS_DIRECTORY/yggdrasil.conf"}${lib.optionalString cfg.persistentKeys " + ${keysPath}"}) > /run/yggdrasil/yggdrasil.conf; exec yggdrasil -useconffile /run/yggdrasil/yggdrasil.conf";
      serviceConfig = {
        DynamicUser = true;
        StateDirectory = "yggdrasil";
        RuntimeDirectory = "yggdrasil";
        BindReadOnlyPaths = lib.optional cfg.persistentKeys keysPath;
        LoadCredential = lib.mkIf (cfg.configFile != null) "yggdrasil.conf:${cfg.configFile}";
      };
    };
    networking.dhcpcd.denyInterfaces = cfg.denyDhcpcdInterfaces;
    environment.systemPackages = [ cfg.package ];
  };
}
