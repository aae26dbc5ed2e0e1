# Forwarded application windows (display "waypipe": vm.display, or an application's need, see options.nix). clan-vmd gives the VM one virtio port for waypipe
# (org.clan.waypipe.0, there is no vsock on every host); a socket in the VM is bridged to it, and waypipe's server
# side runs the configured application for the desktop's waypipe client, one at a time (--oneshot).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  channel = "/run/clan-waypipe/channel.sock";
  enabled = cfg.enable && cfg.display == "waypipe" && cfg.waypipe.command != null;
in
lib.mkIf enabled {
  users.users.clan-app = {
    isNormalUser = true;
    home = "/var/lib/clan-app";
    description = "Applications forwarded to the clan-desktop host";
    # The system-wide PipeWire of audio.nix.
    extraGroups = lib.optionals cfg.audio.enable [ "pipewire" "audio" ];
  };
  users.groups.clan-app = { };
  services.clan-desktop-guest.stateDirectories = [ "/var/lib/clan-app" ];

  systemd.services.clan-waypipe-channel = {
    description = "Bridge the waypipe socket to the host's virtio port";
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      ExecStart = "${pkgs.socat}/bin/socat UNIX-LISTEN:${channel},unlink-early,mode=0660,group=clan-app OPEN:/dev/virtio-ports/org.clan.waypipe.0";
      RuntimeDirectory = "clan-waypipe";
      Restart = "always";
      RestartSec = 1;
    };
  };

  systemd.services.clan-forwarded-app = {
    description = "The application forwarded to the desktop through waypipe";
    wantedBy = [ "multi-user.target" ];
    requires = [ "clan-waypipe-channel.service" ];
    after = [ "clan-waypipe-channel.service" ];
    environment = {
      XDG_RUNTIME_DIR = "/run/clan-app";
    } // lib.optionalAttrs cfg.audio.enable {
      # Where NixOS' system-wide PipeWire (services.pipewire.systemWide) serves its PulseAudio and native sockets.
      PULSE_SERVER = "unix:/run/pulse/native";
      PIPEWIRE_RUNTIME_DIR = "/run/pipewire";
    };
    serviceConfig = {
      User = "clan-app";
      Group = "clan-app";
      RuntimeDirectory = "clan-app";
      ExecStart = lib.escapeShellArgs ([ "${pkgs.waypipe}/bin/waypipe" "--no-gpu" "--oneshot" "--socket" channel "server" "--" ] ++ cfg.waypipe.command);
      Restart = "always";
      RestartSec = 2;
    };
  };
}
