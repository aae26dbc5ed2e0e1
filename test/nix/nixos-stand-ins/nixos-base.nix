# STAND-IN for the parts of NixOS (nixpkgs' nixos/modules) that nix/'s modules set options of, which are not on
# these machines. Each option is declared with the type NixOS 25.05 documents for it (search.nixos.org, the
# manual's option list), so the real `lib.evalModules` merges and type-checks the definitions as NixOS would; the
# modules behind them (systemd units, /etc, boot) are not here. Options left out are ones nix/ does not set: a
# module that sets one fails to evaluate here, naming it.
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  option = type: default: mkOption { inherit type default; };
  listOfStrings = option (types.listOf types.str) [ ];
  unitOptions = {
    freeformType = types.attrsOf types.anything;
    options = {
      description = option types.str "";
      enable = option types.bool true;
      wantedBy = listOfStrings;
      requiredBy = listOfStrings;
      wants = listOfStrings;
      requires = listOfStrings;
      after = listOfStrings;
      before = listOfStrings;
      partOf = listOfStrings;
      bindsTo = listOfStrings;
      path = option (types.listOf (types.either types.package types.str)) [ ];
      environment = option (types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]))) { };
      script = option types.lines "";
      preStart = option types.lines "";
      unitConfig = option (types.attrsOf types.anything) { };
      serviceConfig = option (types.attrsOf types.anything) { };
    };
  };
  firewallRules = {
    allowedTCPPorts = option (types.listOf types.port) [ ];
    allowedUDPPorts = option (types.listOf types.port) [ ];
  };
in
{
  options = {
    assertions = option (types.listOf types.unspecified) [ ];
    warnings = option (types.listOf types.str) [ ];

    nixpkgs.hostPlatform = option (types.either types.str (types.attrsOf types.anything)) "x86_64-linux";
    system.stateVersion = option types.str "25.05";
    system.systemBuilderCommands = option types.lines "";
    system.build = option (types.lazyAttrsOf types.unspecified) { };

    boot.loader.grub.enable = option types.bool true;
    boot.initrd.availableKernelModules = listOfStrings;
    boot.initrd.kernelModules = listOfStrings;
    boot.kernelModules = listOfStrings;
    boot.kernelParams = listOfStrings;

    fileSystems = option (types.attrsOf (types.submodule {
      options = {
        device = option (types.nullOr types.str) null;
        fsType = option types.str "auto";
        options = listOfStrings;
        neededForBoot = option types.bool false;
        autoFormat = option types.bool false;
      };
    })) { };

    nix.enable = option types.bool true;
    nix.package = option types.package pkgs.nix;

    networking.hostName = option types.str "nixos";
    networking.useDHCP = option types.bool true;
    networking.enableIPv6 = option types.bool true;
    networking.hosts = option (types.attrsOf (types.listOf types.str)) { };
    networking.firewall.interfaces = option (types.attrsOf (types.submodule { options = firewallRules; })) { };
    networking.firewall.allowedTCPPorts = option (types.listOf types.port) [ ];
    networking.firewall.allowedUDPPorts = option (types.listOf types.port) [ ];
    networking.dhcpcd.denyInterfaces = listOfStrings;

    systemd.services = option (types.attrsOf (types.submodule unitOptions)) { };
    systemd.user.services = option (types.attrsOf (types.submodule unitOptions)) { };
    systemd.tmpfiles.rules = listOfStrings;

    environment.systemPackages = option (types.listOf types.package) [ ];
    environment.etc = option (types.attrsOf (types.submodule ({ name, ... }: {
      options = {
        source = option (types.nullOr (types.either types.path types.package)) null;
        text = option (types.nullOr types.lines) null;
        mode = option types.str "symlink";
        target = option types.str name;
      };
    }))) { };

    users.users = option (types.attrsOf (types.submodule {
      freeformType = types.attrsOf types.anything;
      options = {
        isNormalUser = option types.bool false;
        isSystemUser = option types.bool false;
        extraGroups = listOfStrings;
        openssh.authorizedKeys.keys = listOfStrings;
      };
    })) { };
    users.groups = option (types.attrsOf (types.submodule { freeformType = types.attrsOf types.anything; })) { };

    services.getty.autologinUser = option (types.nullOr types.str) null;
    services.udev.extraRules = option types.lines "";
    services.qemuGuest.enable = option types.bool false;
    services.qemuGuest.package = option types.package { type = "derivation"; name = "qemu-ga"; outPath = "/nix/store/qemu-ga-stand-in"; };
    services.dbus.packages = option (types.listOf types.path) [ ];
    services.pipewire = {
      enable = option types.bool false;
      systemWide = option types.bool false;
      pulse.enable = option types.bool false;
      alsa.enable = option types.bool false;
    };
    security.rtkit.enable = option types.bool false;
    xdg.mime.defaultApplications = option (types.attrsOf (types.either types.str (types.listOf types.str))) { };
  };
}
