# STAND-IN for nixpkgs 25.05's nixos/modules/services/networking/zerotierone.nix: its options and unit name.
{ config, lib, ... }:
{
  options.services.zerotierone = {
    enable = lib.mkEnableOption "ZeroTierOne";
    joinNetworks = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
    port = lib.mkOption { type = lib.types.port; default = 9993; };
  };
  config = lib.mkIf config.services.zerotierone.enable {
    systemd.services.zerotierone.wantedBy = [ "multi-user.target" ];
  };
}
