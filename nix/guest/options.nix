# Options of a network VM (services.clan-desktop-guest). Those a configs.json entry sets are declared from its JSON
# Schema, so a NixOS option and the wizard's field share name, type, range, default and description; the others are
# for admins who write Nix.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  clanLib = import ../lib;
  networkConfigsSchema = clanLib.networkConfigsSchema;

  typeOf = schema:
    if schema ? enum then types.enum schema.enum
    else {
      string = stringType schema;
      integer = types.ints.between schema.minimum schema.maximum;
      boolean = types.bool;
      array = types.listOf (typeOf schema.items);
      object = types.submodule { options = optionsOf schema; };
    }.${schema.type};

  stringType = schema:
    let matching = if schema ? pattern then types.strMatching schema.pattern else types.str;
    in
    if schema ? maxLength then types.addCheck matching (value: builtins.stringLength value <= schema.maxLength)
    else matching;

  # A field that a config may leave out and that has no default (an application) is null when left out.
  optionOf = required: schema:
    mkOption ({ description = schema.description or ""; }
      // (if schema ? default then { type = typeOf schema; inherit (schema) default; }
      else if required then { type = typeOf schema; }
      else { type = types.nullOr (typeOf schema); default = null; }));

  optionsOf = schema: lib.mapAttrs (name: optionOf (builtins.elem name (schema.required or [ ]))) schema.properties;

  # `system` is not an option of the guest: it is the platform nixpkgs builds for (nixpkgs.hostPlatform).
  entryOptions = removeAttrs (optionsOf networkConfigsSchema.additionalProperties) [ "system" ];

  cfg = config.services.clan-desktop-guest;
  ipAddress = types.strMatching "([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*)";
  member = types.submodule {
    options = {
      address = mkOption {
        type = types.nullOr ipAddress;
        default = null;
        example = "200:1234:5678::1";
        description = "The member's VM's address on the network layer (its yggdrasil address, WireGuard or ZeroTier IP).";
      };
      syncthingDeviceId = mkOption {
        type = types.nullOr (types.strMatching "[A-Z2-7]{7}(-[A-Z2-7]{7}){7}");
        default = null;
        example = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD";
        description = "The syncthing device id of the member's VM (`syncthing --device-id`, or the VM's syncthing GUI).";
      };
    };
  };
in
{
  options.services.clan-desktop-guest = entryOptions // {
    enable = lib.mkEnableOption "this system as a clan-desktop network VM, booted by clan-vmd";

    networkName = mkOption {
      type = types.strMatching networkConfigsSchema.propertyNames.pattern;
      description = "The network's name, as in the desktop's config and clan-vmd (the configs.json entry's name).";
    };

    readyTimeoutSeconds = mkOption {
      type = types.ints.between 1 3600;
      default = 300;
      description = "How long clan-vmd waits for the VM controller's ready message (vm.json readyTimeoutSeconds).";
    };

    sourceRevision = mkOption {
      type = types.nullOr (types.strMatching "[A-Za-z0-9._+-]{1,128}");
      default = null;
      example = lib.literalExpression "self.rev or \"dirty\"";
      description = "The revision of the network's flake, shown by clan-desktop for each generation (vm.json).";
    };

    readyAfter = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Units that must have started before the VM reports ready; the network layer and applications add theirs.";
    };

    stateDirectories = mkOption {
      type = types.listOf (types.strMatching "(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+");
      default = [ ];
      example = [ "/var/lib/postgresql" ];
      description = ''
        Directories kept on the state disk, across reboots and generations; everything else lives in memory.
        Without a state disk (vm.stateDiskMiB = 0) they are empty at every boot.
      '';
    };

    backup = {
      preBackupCommands = mkOption {
        type = types.lines;
        default = "";
        example = "systemctl stop postgresql";
        description = "Shell commands run before clan-desktop backs up the state disk, just before qemu-ga freezes the filesystems (clan-vmd allows the freeze 60 s). A failure cancels the backup.";
      };
      postBackupCommands = mkOption {
        type = types.lines;
        default = "";
        example = "systemctl start postgresql";
        description = "Shell commands run after the backup, when the filesystems are thawed.";
      };
    };

    members = mkOption {
      type = types.attrsOf member;
      default = { };
      example = lib.literalExpression ''{ alice = { address = "200:1234:5678::1"; syncthingDeviceId = "MFZWI3D-…"; }; }'';
      description = ''
        The network's phonebook: every member's VM, by member name. Each member with an address is
        `<name>` and `<name>.<networkName>.clan` in /etc/hosts, whatever the network layer; each with a syncthing
        device id shares every sharedFolder with the others. Every member's VM boots the same generation, so a
        VM finds itself in this list too (syncthing ignores its own id).
      '';
    };

    display = mkOption {
      type = types.enum [ "none" "spice" "waypipe" "dbus" ];
      readOnly = true;
      default = if cfg.vm.display == "none" && cfg.waypipe.command != null then "waypipe" else cfg.vm.display;
      defaultText = lib.literalExpression ''"waypipe" when vm.display is "none" and waypipe.command is set, else vm.display'';
      description = "The display the VM gets (vm.json): vm.display, or waypipe for an application that needs a window (waypipe.command) when vm.display is none.";
    };

    audio.enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        A sound card whose sound QEMU plays and records through the desktop's PulseAudio or PipeWire
        (vm.json "audio": "host"), and PipeWire in the VM. An enabled mumbleClient sets it.
      '';
    };

    waypipe.ports = mkOption {
      type = types.ints.between 1 16;
      default = 4;
      description = ''
        How many applications of the VM may show windows at once (vm.json waypipe.ports): clan-vmd gives the VM
        a virtio port for each, and the host a waypipe stream and a filtered Wayland connection for each. One
        more gets an error from clan-waypipe-open until one of them closes.
      '';
    };

    waypipe.command = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      example = [ "gnome-text-editor" ];
      description = ''
        The application whose windows are forwarded to the desktop through waypipe when vm.display is "waypipe",
        shown with clan-waypipe-open on the first free waypipe port; it is restarted when it exits. Other
        applications of the VM may show windows with `clan-waypipe-open APPLICATION`, up to waypipe.ports at once.
        An enabled mumbleClient sets this to mumble by default.
      '';
    };
  };
}
