# A NixOS VM test (nixpkgs' runNixOSTest) of two members' network VMs made from the seeds' configs.json by
# nixosModules.guest: yggdrasil up between them with keys kept on the state disk across a reboot, names of the
# network's phonebook, a syncthing folder shared between the members over the VPN only, and the admin modes (alice:
# local, no SSH; bob: shared, SSH with the admin's key over yggdrasil only). The test framework boots the VMs its
# own way (its root disk and store share), so only the state disk is added: an empty second disk.
#   nix build .#checks.x86_64-linux.network-vm -L      (needs nixpkgs, and KVM to finish in minutes)
# The keys in ./keys are for this test only: they give the members addresses and device ids known in advance.
{ clanLib }:
let
  seeds = {
    system = "x86_64-linux";
    networkLayer = "yggdrasil";
    applications = {
      syncthing = { enable = true; sharedFolders = [ "/shared/docs" ]; };
      mumbleClient = { server = "mumble.example"; };
    };
  };
  adminKey = builtins.replaceStrings [ "\n" ] [ "" ] (builtins.readFile ./keys/admin-ssh-key.pub);
  members = {
    alice = {
      address = "202:dcef:908c:225c:f924:2513:813b:960e";
      syncthingDeviceId = "CD7KAST-TQXZREH-3J4Q5G6-4ZMSHMZ-SHKHONG-6O7ELMK-T4N7256-YATPMAW";
    };
    bob = {
      address = "201:7833:dd09:ead6:cde5:c4cc:637a:e951";
      syncthingDeviceId = "RAMAVST-3LHR6SG-A3AJDMM-ZJWY4NJ-G2YC7PG-KZ3L7CW-6OY7YKU-FT252AL";
    };
  };
  yggdrasilPort = 12345;

  member = name: entry: { lib, pkgs, nodes, ... }: {
    imports = [ (clanLib.generateNixosModules { default = seeds // entry; }).default ];
    system.stateVersion = "25.05";
    services.clan-desktop-guest = { inherit members; sourceRevision = "nixos-test"; };

    # The state disk: the framework's first disk is its root, the empty one is the second.
    virtualisation.emptyDiskImages = [ 256 ];
    virtualisation.fileSystems."/var/lib/clan-state" = { device = "/dev/vdb"; fsType = "ext4"; autoFormat = true; };

    # This member's node key, known in advance for the phonebook; clan-yggdrasil-key keeps a key it finds.
    systemd.services.clan-yggdrasil-key.preStart = ''
      [ -s /var/lib/clan-yggdrasil/keys.json ] || install -m 0600 ${./keys + "/${name}-yggdrasil.json"} /var/lib/clan-yggdrasil/keys.json
    '';
    services.syncthing.cert = "${./keys + "/${name}-syncthing-cert.pem"}";
    services.syncthing.key = "${./keys + "/${name}-syncthing-key.pem"}";

    # The members peer over the test's network: alice listens, bob connects.
    services.yggdrasil.settings =
      if name == "alice" then { Listen = [ "tcp://0.0.0.0:${toString yggdrasilPort}" ]; }
      else { Peers = [ "tcp://${nodes.alice.networking.primaryIPAddress}:${toString yggdrasilPort}" ]; };
    networking.firewall.interfaces.eth1.allowedTCPPorts = lib.optional (name == "alice") yggdrasilPort;
    environment.systemPackages = [ pkgs.openssh ];
  };
in
{
  name = "clan-desktop-network-vm";

  nodes = {
    alice = member "alice" { adminMode = "local"; };
    bob = member "bob" { adminMode = "shared"; adminSshKeys = [ adminKey ]; };
  };

  testScript = { nodes, ... }: ''
    start_all()
    for machine in (alice, bob):
        machine.wait_for_unit("clan-state-directories.service")
        machine.wait_for_unit("yggdrasil.service")
        machine.wait_for_unit("syncthing.service")

    with subtest("yggdrasil is up with the key kept on the state disk"):
        alice.succeed("findmnt -n -o SOURCE --target /var/lib/clan-yggdrasil | grep -q /dev/vdb")
        key = alice.succeed("cat /var/lib/clan-yggdrasil/keys.json")
        alice.wait_until_succeeds("ip -6 addr show dev ygg0 | grep -q ${members.alice.address}")
        bob.wait_until_succeeds("ping -6 -c 1 -W 2 alice.default.clan", timeout=120)
        alice.shutdown()
        alice.start()
        alice.wait_for_unit("yggdrasil.service")
        assert alice.succeed("cat /var/lib/clan-yggdrasil/keys.json") == key, "the key changed across a reboot"
        alice.wait_until_succeeds("ip -6 addr show dev ygg0 | grep -q ${members.alice.address}")
        alice.fail("test -e /var/lib/yggdrasil/keys.json")

    with subtest("a shared folder syncs between the members, over yggdrasil only"):
        alice.wait_for_unit("syncthing-init.service")
        bob.wait_for_unit("syncthing-init.service")
        alice.succeed("echo from-alice > /shared/docs/hello.txt && chown syncthing:syncthing /shared/docs/hello.txt")
        bob.wait_until_succeeds("grep -q from-alice /shared/docs/hello.txt", timeout=300)
        connections = bob.succeed("ss -Htn state established '( sport = :22000 or dport = :22000 )'")
        assert "${members.alice.address}" in connections, f"syncthing is not connected over yggdrasil: {connections}"
        for option in ("globalAnnounceEnabled", "relaysEnabled", "localAnnounceEnabled"):
            bob.succeed(f"grep -q '<{option}>false</{option}>' /var/lib/syncthing/.config/syncthing/config.xml")

    with subtest("admin modes: alice local (no SSH), bob shared (SSH with the admin's key, over yggdrasil only)"):
        alice.fail("systemctl is-active sshd.service")
        bob.wait_for_unit("sshd.service")
        alice.succeed("install -m 0600 ${./keys/admin-ssh-key} /root/admin-key")
        ssh = "ssh -i /root/admin-key -o StrictHostKeyChecking=no -o ConnectTimeout=5 root@"
        alice.succeed(ssh + "bob.default.clan true")
        alice.fail(ssh + "${nodes.bob.networking.primaryIPAddress} true")
  '';
}
