# Names in the network, whatever its layer: each member of the phonebook (services.clan-desktop-guest.members) with
# an address is <member> and <member>.<network>.clan. A host-side VPN of clan-vmd (docs/vpn.md) hands the VM its
# peers' names through QEMU's fw_cfg; they are added to /etc/hosts at boot.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.clan-desktop-guest;
  namedMembers = lib.filterAttrs (_: member: member.address != null) cfg.members;
  fwCfgHosts = "/sys/firmware/qemu_fw_cfg/by_name/opt/org.clan/hosts/raw";
in
lib.mkIf cfg.enable {
  networking.hosts = lib.zipAttrsWith (_: lib.concatLists) (lib.mapAttrsToList
    (name: member: { ${member.address} = [ name "${name}.${cfg.networkName}.clan" ]; })
    namedMembers);

  boot.kernelModules = [ "qemu_fw_cfg" ];
  # A file rather than a link into the store, so that clan-vmd's names can be added to it.
  environment.etc.hosts.mode = "0644";
  systemd.services.clan-network-names = {
    description = "Add the names clan-vmd gives this network's peers to /etc/hosts";
    wantedBy = [ "multi-user.target" ];
    before = [ "network.target" ];
    path = [ pkgs.coreutils ];
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
    script = ''
      if [ -r ${fwCfgHosts} ]; then
        cat ${fwCfgHosts} >> /etc/hosts
      fi
    '';
  };
}
