# nixosModules.host: clan-desktop on a NixOS desktop. The daemons run as systemd user units that D-Bus starts on
# first use; sway and i3 start clan-sessiond from a config snippet, GNOME through graphical-session.target.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.services.clan-desktop;
  json = pkgs.formats.json { };

  packageDirectory = "${cfg.package}/lib/node_modules/clan-desktop";
  qemu = pkgs.qemu_kvm;

  # Checked with clan-sessiond's own loader while the system is built.
  configFile = pkgs.runCommand "clan-desktop-config.json"
    {
      nativeBuildInputs = [ pkgs.nodejs ];
      passAsFile = [ "config" ];
      config = builtins.toJSON ({ inherit (cfg) networks; } // cfg.settings);
    } ''
    cp "$configPath" $out
    node ${./check-config.mjs} ${packageDirectory} $out
  '';

  # Starting clan-sessiond, then clanctl's own snippet: the network actions' key mode, a key per declared network
  # (none without declared networks: each user's config.json may differ), the bar's status command.
  windowManagerSnippet = wm:
    let networksFile = if cfg.networks == null then pkgs.writeText "no-networks.json" ''{"networks": {}}'' else configFile;
    in
    pkgs.runCommand "clan-desktop-${wm}.conf" { } ''
      cat ${./. + "/${wm}.conf"} > $out
      echo >> $out
      ${cfg.package}/bin/clanctl ${wm}-config --config ${networksFile} >> $out
    '';

  # Exec= is required by the file format; with SystemdService= the bus asks systemd to start the unit instead.
  dbusActivation = busName: unit: pkgs.writeTextDir "share/dbus-1/services/${busName}.service" ''
    [D-BUS Service]
    Name=${busName}
    Exec=${pkgs.coreutils}/bin/false
    SystemdService=${unit}
  '';
in
{
  options.services.clan-desktop = {
    enable = lib.mkEnableOption "clan-desktop: workspaces that belong to private networks, whose services run in NixOS VMs";

    npmRegistry = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://npm-registry.example.org";
      description = "The npm registry the default package fetches package-lock.json's packages from (nix/package.nix).";
    };

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ../package.nix { inherit (cfg) npmRegistry; };
      defaultText = lib.literalExpression "clan-desktop's package, built with this system's nixpkgs from services.clan-desktop.npmRegistry";
      description = "The clan-desktop package (clan-vmd, clan-sessiond, clanctl).";
    };

    networks = mkOption {
      type = types.nullOr (types.attrsOf json.type);
      default = null;
      example = lib.literalExpression ''
        {
          family = {
            workspaces = [ "3:family" ];
            colour = "#e06c75";
            source = { flake = "git+https://git.example.org/family/network"; attribute = "packages.x86_64-linux.family"; };
            onLeave.action = "pause";
          };
        }
      '';
      description = ''
        The networks of every user of this machine, as in the "networks" of clan-sessiond's config.json
        (docs/config.md); checked when the system is built. null: each user keeps their own
        ~/.config/clan-desktop/config.json instead.
      '';
    };

    settings = mkOption {
      type = json.type;
      default = { };
      example = { switchDebounceMs = 250; };
      description = "The other top-level fields of config.json, used with `networks`.";
    };
  };

  config = lib.mkIf cfg.enable {
    # clanctl on the PATH, the GNOME Shell extension in share/gnome-shell/extensions, and the link handler in
    # share/applications, which xdg.mime makes the default for clan:// and nix:// links.
    environment.systemPackages = [ cfg.package ];
    xdg.mime.defaultApplications = {
      "x-scheme-handler/clan" = "clan-desktop-join.desktop";
      "x-scheme-handler/nix" = "clan-desktop-join.desktop";
    };

    # Read by sway's default config, and by i3 after `include /etc/i3/config.d/*`.
    environment.etc."sway/config.d/clan-desktop.conf".source = windowManagerSnippet "sway";
    environment.etc."i3/config.d/clan-desktop.conf".source = windowManagerSnippet "i3";
    # A link that each rebuild re-points: clan-sessiond reloads it like an edit.
    environment.etc."clan-desktop/config.json" = lib.mkIf (cfg.networks != null) { source = configFile; };

    services.dbus.packages = [
      (dbusActivation "org.clan.Desktop.VMs1" "clan-vmd.service")
      (dbusActivation "org.clan.Desktop.Session1" "clan-sessiond.service")
    ];

    systemd.user.services.clan-vmd = {
      description = "clan-desktop network VMs (org.clan.Desktop.VMs1)";
      path = [ qemu pkgs.virtiofsd pkgs.restic config.nix.package ];
      environment = {
        CLAN_VMD_QEMU = "${qemu}/bin/qemu-system-${pkgs.stdenv.hostPlatform.qemuArch}";
        CLAN_VMD_VIRTIOFSD = "${pkgs.virtiofsd}/bin/virtiofsd";
      };
      serviceConfig = {
        Type = "dbus";
        BusName = "org.clan.Desktop.VMs1";
        ExecStart = "${cfg.package}/bin/clan-vmd";
        # VMs outlive a restart of clan-vmd, which re-adopts them: stopping the unit stops only the daemon.
        KillMode = "process";
        Restart = "on-failure";
      };
    };

    systemd.user.services.clan-sessiond = {
      description = "clan-desktop session: networks of workspaces (org.clan.Desktop.Session1)";
      wantedBy = [ "graphical-session.target" ];
      partOf = [ "graphical-session.target" ];
      after = [ "graphical-session.target" ];
      path = [ pkgs.virt-viewer pkgs.waypipe config.nix.package ];
      environment = {
        CLAN_VIEWER = "${pkgs.virt-viewer}/bin/remote-viewer";
      } // lib.optionalAttrs (cfg.networks != null) { CLAN_DESKTOP_CONFIG = "/etc/clan-desktop/config.json"; };
      serviceConfig = {
        Type = "dbus";
        BusName = "org.clan.Desktop.Session1";
        ExecStart = "${cfg.package}/bin/clan-sessiond";
        Restart = "on-failure";
      };
    };
  };
}
