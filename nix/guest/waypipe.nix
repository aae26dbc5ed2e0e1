# Forwarded application windows (display "waypipe": vm.display, or an application's need, see options.nix). clan-vmd
# gives the VM a virtio port per application it may show at once (org.clan.waypipe.0, .1, …: waypipe.ports, vm.json
# waypipe.ports; there is no vsock on every host). clan-waypipe-open shows an application on the first free port:
# a virtio port can be open only once, so the port that opens is free and stays the application's until its session
# ends. Each host connection to a port carries one waypipe session (docs/session.md, "Forwarded app windows").
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  enabled = cfg.enable && cfg.display == "waypipe" && cfg.waypipe.command != null;

  # The header, written with a blocking write, waits until the host's bridge is connected and tells it a session
  # starts; socat must not read the port before it (a read returns EOF at once while no host is connected). When
  # the session ends the host drops its connection; reading to EOF waits for that, so the next header never lands
  # in the old session.
  openApplication = pkgs.writeShellScriptBin "clan-waypipe-open" ''
    set -u
    if [ $# -eq 0 ]; then echo "usage: clan-waypipe-open APPLICATION [ARGUMENT…]" >&2; exit 64; fi
    runtime=''${XDG_RUNTIME_DIR:?clan-waypipe-open needs XDG_RUNTIME_DIR}

    session() {
      local sock=$runtime/waypipe-$1.sock bridge status
      shift
      printf 'clan-waypipe 1\n' >&4
      rm -f "$sock"
      ${pkgs.socat}/bin/socat UNIX-LISTEN:"$sock" FD:4 &
      bridge=$!
      for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
      ${pkgs.waypipe}/bin/waypipe --no-gpu --oneshot --socket "$sock" server -- "$@"
      status=$?
      kill "$bridge" 2>/dev/null
      wait "$bridge"
      cat <&4 >/dev/null
      return "$status"
    }

    shopt -s nullglob
    ports=(/dev/virtio-ports/org.clan.waypipe.*)
    if [ ''${#ports[@]} -eq 0 ]; then echo "clan-waypipe-open: this VM has no waypipe port (is its display waypipe?)" >&2; exit 69; fi
    for port in "''${ports[@]}"; do
      opened=0
      # A port in use does not open (EBUSY); only the shell's message about that goes to /dev/null.
      { opened=1; session "''${port##*.}" "$@" 2>&5; } 5>&2 2>/dev/null 4<>"$port"
      status=$?
      if [ "$opened" = 1 ]; then exit "$status"; fi
    done
    echo "clan-waypipe-open: cannot show $1: all ''${#ports[@]} waypipe ports of this VM are in use (waypipe.ports); close one of its applications first" >&2
    exit 75
  '';
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

  # The forwarded applications open the waypipe ports themselves; nobody else but root may.
  services.udev.extraRules = ''
    SUBSYSTEM=="virtio-ports", ATTR{name}=="org.clan.waypipe.*", GROUP="clan-app", MODE="0660"
  '';
  environment.systemPackages = [ openApplication ];

  systemd.services.clan-forwarded-app = {
    description = "The application forwarded to the desktop through waypipe";
    wantedBy = [ "multi-user.target" ];
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
      ExecStart = lib.escapeShellArgs ([ "${openApplication}/bin/clan-waypipe-open" ] ++ cfg.waypipe.command);
      Restart = "always";
      RestartSec = 2;
    };
  };
}
