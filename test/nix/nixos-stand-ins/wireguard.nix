# STAND-IN for nixpkgs 25.05's nixos/modules/services/networking/wireguard.nix: networking.wireguard.interfaces with
# the documented options nix/ and a network.nix set, its assertions, and the unit names it makes
# (wireguard-<name>.service, and wireguard-<name>-key.service with generatePrivateKeyFile).
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  peer = types.submodule {
    options = {
      name = mkOption { type = types.nullOr types.str; default = null; };
      publicKey = mkOption { type = types.str; };
      allowedIPs = mkOption { type = types.listOf types.str; default = [ ]; };
      endpoint = mkOption { type = types.nullOr types.str; default = null; };
      persistentKeepalive = mkOption { type = types.nullOr types.int; default = null; };
    };
  };
  interface = types.submodule {
    options = {
      ips = mkOption { type = types.listOf types.str; default = [ ]; };
      privateKey = mkOption { type = types.nullOr types.str; default = null; };
      privateKeyFile = mkOption { type = types.nullOr types.str; default = null; };
      generatePrivateKeyFile = mkOption { type = types.bool; default = false; };
      listenPort = mkOption { type = types.nullOr types.int; default = null; };
      peers = mkOption { type = types.listOf peer; default = [ ]; };
    };
  };
  interfaces = config.networking.wireguard.interfaces;
in
{
  options.networking.wireguard.interfaces = mkOption { type = types.attrsOf interface; default = { }; };

  config = lib.mkIf (interfaces != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList
      (name: values: [
        { assertion = (values.privateKey != null) != (values.privateKeyFile != null); message = "networking.wireguard.interfaces.${name}: exactly one of privateKey or privateKeyFile must be set."; }
        { assertion = values.generatePrivateKeyFile -> values.privateKeyFile != null; message = "networking.wireguard.interfaces.${name}: generatePrivateKeyFile requires privateKeyFile."; }
      ])
      interfaces);
    systemd.services = lib.mkMerge (lib.mapAttrsToList
      (name: values: {
        "wireguard-${name}" = { wantedBy = [ "multi-user.target" ]; };
        "wireguard-${name}-key" = lib.mkIf values.generatePrivateKeyFile {
          requiredBy = [ "wireguard-${name}.service" ];
          before = [ "wireguard-${name}.service" ];
          script = "[ -f ${values.privateKeyFile} ] || wg genkey > ${values.privateKeyFile}";
        };
      })
      interfaces);
  };
}
