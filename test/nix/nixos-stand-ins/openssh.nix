# STAND-IN for nixpkgs 25.05's nixos/modules/services/networking/ssh/sshd.nix: the options nix/ sets, with their
# documented types and defaults (settings is freeform, with PermitRootLogin an enum), and that openFirewall opens
# its ports on every interface.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.services.openssh;
in
{
  options.services.openssh = {
    enable = mkOption { type = types.bool; default = false; };
    openFirewall = mkOption { type = types.bool; default = true; };
    ports = mkOption { type = types.listOf types.port; default = [ 22 ]; };
    hostKeys = mkOption { type = types.listOf types.attrs; default = [ ]; };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
        options = {
          PasswordAuthentication = mkOption { type = types.bool; default = true; };
          KbdInteractiveAuthentication = mkOption { type = types.bool; default = true; };
          PermitRootLogin = mkOption {
            type = types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ];
            default = "prohibit-password";
          };
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.sshd.wantedBy = [ "multi-user.target" ];
    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall cfg.ports;
  };
}
