# nix/tests/network-vm.nix, the NixOS VM test, as far as it evaluates without nixpkgs: each node through nixpkgs'
# real lib.evalModules with the stand-ins of ./nixos-stand-ins (NixOS, pkgs and the test framework's options), and
# the test script rendered with those nodes. Running it needs nixpkgs (runNixOSTest).
{ nixpkgsLib }:
let
  lib = import nixpkgsLib;
  standIns = import ./nixos-stand-ins { inherit lib; };
  test = import ../../nix/tests/network-vm.nix { clanLib = import ../../nix/lib; };
  evaluateNode = name: node: (lib.evalModules {
    modules = standIns.modules ++ [ ./nixos-stand-ins/nixos-test-framework.nix node { _module.args = { pkgs = standIns.pkgs; inherit nodes; }; } ];
    specialArgs = { inherit name; };
  }).config;
  nodes = lib.mapAttrs evaluateNode test.nodes;
  summary = config: {
    failedAssertions = map (assertion: assertion.message) (lib.filter (assertion: !assertion.assertion) config.assertions);
    inherit (config) warnings;
    inherit (config.services.clan-desktop-guest) adminMode networkName stateDirectories;
    yggdrasil = { inherit (config.services.yggdrasil) settings configFile persistentKeys; };
    syncthing = { inherit (config.services.syncthing) cert key; inherit (config.services.syncthing.settings) devices folders; };
    sshd = config.services.openssh.enable;
    authorizedKeys = config.users.users.root.openssh.authorizedKeys.keys or [ ];
    hosts = config.networking.hosts;
    keyPreStart = config.systemd.services.clan-yggdrasil-key.preStart;
    stateDisk = config.virtualisation.fileSystems."/var/lib/clan-state";
  };
in
{
  inherit (test) name;
  nodes = lib.mapAttrs (_: summary) nodes;
  testScript = test.testScript { inherit nodes; };
}
