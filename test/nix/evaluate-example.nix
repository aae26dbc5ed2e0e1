# What the Nix side makes of one example configs.json (test/nix/examples), compared by network-spec.test.ts with
# test/nix/expected and with what zod makes of it. The nixosConfigurations are fakes: building NixOS needs nixpkgs.
{ file }:
let
  clan = import ../../nix/lib;
  configs = builtins.fromJSON (builtins.readFile file);
  checked = clan.checkNetworkConfigs configs;
  fakeNixosConfigurations =
    builtins.mapAttrs (name: _: { config.system.build.toplevel = "toplevel of ${name}"; }) configs;
in
if !checked.ok then { inherit (checked) problem; }
else {
  inherit (checked) configs;
  networkOptions = builtins.mapAttrs clan.networkOptions checked.configs;
  vmSpecs = builtins.mapAttrs (_: entry: clan.vmSpec { inherit (entry) vm; readyTimeoutSeconds = 300; }) checked.configs;
  packages = clan.generationPackages configs fakeNixosConfigurations;
}
