# The machine clan-vmd boots: no boot loader and no root disk. clan-vmd starts the toplevel's kernel and initrd with
# its kernel-params; the root is in memory, the host's /nix/store arrives read-only over virtiofs, and what must
# last lives on the state disk.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  clanLib = import ../lib;
  stateRoot = "/var/lib/clan-state";
  hasStateDisk = cfg.vm.stateDiskMiB > 0;

  # The display and audio the VM's applications need (options.nix: display, audio.enable) replace the entry's.
  vm = cfg.vm // { inherit (cfg) display; audio = if cfg.audio.enable then "host" else "none"; waypipe = { inherit (cfg.waypipe) ports; }; };
  vmJson = pkgs.writeText "vm.json"
    (builtins.toJSON (clanLib.vmSpec { inherit vm; inherit (cfg) readyTimeoutSeconds sourceRevision; }));

  # A network name may end in '-', a host name may not.
  hostName = builtins.head (builtins.match "(.*[a-z0-9])-*" cfg.networkName);

  bindStateDirectory = directory:
    let
      onDisk = lib.escapeShellArg "${stateRoot}${directory}";
      inMemory = lib.escapeShellArg directory;
    in
    # Made on the disk the first time with the owner and mode of the directory it covers, if the system made one
    # (a service user's home, say); else for root alone.
    ''
      if [ ! -d ${onDisk} ]; then
        install -d -m 0700 ${onDisk}
        if [ -d ${inMemory} ]; then
          chown --reference=${inMemory} ${onDisk}
          chmod --reference=${inMemory} ${onDisk}
        fi
      fi
      mkdir -p ${inMemory}
      mountpoint -q ${inMemory} || mount --bind ${onDisk} ${inMemory}
    '';
in
lib.mkIf cfg.enable {
  boot.loader.grub.enable = false;
  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_blk" "virtio_console" "virtio_net" ];
  # Stage 1 mounts the store from it, before anything would load it on demand.
  boot.initrd.kernelModules = [ "virtiofs" ];
  # clan-vmd gives every VM a balloon: its driver hands freed memory back to the host and reports the guest's
  # memory figures. Loaded by name rather than left to udev, as NixOS's qemu-guest profile does.
  boot.kernelModules = [ "virtio_balloon" ];
  # clan-vmd keeps the serial console as the VM's log.
  boot.kernelParams = [ "console=ttyS0" ];

  fileSystems."/" = { device = "none"; fsType = "tmpfs"; options = [ "mode=0755" ]; };
  # The share vm.json asks clan-vmd for (tag nix-store).
  fileSystems."/nix/store" = { device = "nix-store"; fsType = "virtiofs"; options = [ "ro" ]; neededForBoot = true; };
  # clan-vmd creates the disk empty (serial clan-state); the first boot formats it.
  fileSystems.${stateRoot} = lib.mkIf hasStateDisk {
    device = "/dev/disk/by-id/virtio-clan-state";
    fsType = "ext4";
    autoFormat = true;
  };

  # The store is the host's and read-only: generations are built on the host, never in the VM.
  nix.enable = lib.mkDefault false;
  networking.hostName = lib.mkDefault hostName;
  # QEMU's user networking hands out an address by DHCP; the network layer runs on top of it.
  networking.useDHCP = lib.mkDefault true;

  systemd.services.clan-state-directories = lib.mkIf (hasStateDisk && cfg.stateDirectories != [ ]) {
    description = "Keep the network VM's state directories on its state disk";
    unitConfig = { DefaultDependencies = false; RequiresMountsFor = [ stateRoot ]; };
    wantedBy = [ "local-fs.target" ];
    before = [ "local-fs.target" ];
    path = [ pkgs.coreutils pkgs.util-linux ];
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
    script = lib.concatMapStrings bindStateDirectory cfg.stateDirectories;
  };

  # The generation contract of clan-vmd (docs/nix.md): the toplevel already holds kernel, initrd and
  # kernel-params. It adds vm.json, the init= a boot loader would have added, and clan.generation=, the toplevel's
  # hash, which the VM controller reports as ready. After the kernel module's commands, which write kernel-params.
  system.build.clanVmJson = vmJson;
  system.systemBuilderCommands = lib.mkAfter ''
    cp ${vmJson} $out/vm.json
    echo -n " init=$out/init clan.generation=$(basename "$out" | cut -c1-32)" >> $out/kernel-params
  '';
}
