# What clan-vmd talks to inside the VM: the VM controller on the control port, and the QEMU guest agent, whose
# filesystem freeze before a backup runs the backup hooks through the controller.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  controller = pkgs.writeShellScriptBin "clan-vm-controller" (builtins.readFile ./vm-controller.sh);
  hasBackupCommands = cfg.backup.preBackupCommands != "" || cfg.backup.postBackupCommands != "";
in
lib.mkIf cfg.enable {
  systemd.services.clan-vm-controller = {
    description = "Tell clan-vmd that this network VM is ready";
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ] ++ cfg.readyAfter;
    path = [ pkgs.coreutils ];
    serviceConfig = {
      ExecStart = "${controller}/bin/clan-vm-controller serve";
      Restart = "always";
      RestartSec = 1;
    };
  };

  services.qemuGuest.enable = true;
  # qemu-ga calls its fsfreeze hook with "freeze" before freezing and "thaw" after thawing.
  systemd.services.qemu-guest-agent.serviceConfig.ExecStart = lib.mkForce
    "${config.services.qemuGuest.package}/bin/qemu-ga --statedir /run/qemu-ga --fsfreeze-hook=${controller}/bin/clan-vm-controller";

  environment.etc."clan-desktop/backup-hooks.d/50-backup-commands" = lib.mkIf hasBackupCommands {
    mode = "0755";
    text = ''
      #!${pkgs.runtimeShell}
      set -e
      case "$1" in
        freeze)
          ${cfg.backup.preBackupCommands}
          ;;
        thaw)
          ${cfg.backup.postBackupCommands}
          ;;
      esac
    '';
  };
}
