# Sound for the VM's applications (services.clan-desktop-guest.audio.enable): vm.json asks clan-vmd for a sound card
# that QEMU connects to the desktop's PulseAudio or PipeWire; in the VM, PipeWire runs system-wide (there is no
# user session) with its PulseAudio server, for the forwarded application's user.
{ config, lib, ... }:
let
  cfg = config.services.clan-desktop-guest;
in
lib.mkIf (cfg.enable && cfg.audio.enable) {
  boot.kernelModules = [ "snd_hda_intel" ];
  security.rtkit.enable = true;
  services.pipewire = {
    enable = true;
    systemWide = true;
    alsa.enable = true;
    pulse.enable = true;
  };
}
