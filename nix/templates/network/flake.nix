# A clan-desktop network. Its VMs are the entries of configs.json (a wizard may write it; docs/nix.md lists the
# fields); what JSON cannot say goes in network.nix. Each entry <name> becomes
#   nixosConfigurations.<name>            the NixOS system of the network's VM, and
#   packages.<system>.<name>              its toplevel: a generation clan-vmd boots.
# A member's clan-desktop config points at it:
#   "source": { "flake": "git+https://…/this-repository", "attribute": "packages.x86_64-linux.<name>" }
{
  description = "A clan-desktop network";

  # Where you get clan-desktop from.
  inputs.clan-desktop.url = "git+https://git.example.org/clan-desktop/clan-desktop";
  inputs.nixpkgs.follows = "clan-desktop/nixpkgs";

  outputs = { self, clan-desktop, nixpkgs }:
    let
      configs = builtins.fromJSON (builtins.readFile ./configs.json);
    in
    {
      nixosModules = clan-desktop.lib.generateNixosModules configs;

      nixosConfigurations = clan-desktop.lib.mkNetworkVMs {
        inherit nixpkgs configs;
        sharedModules = [
          ./network.nix
          { services.clan-desktop-guest.sourceRevision = self.shortRev or "dirty"; }
        ];
      };

      packages = clan-desktop.lib.generationPackages configs self.nixosConfigurations;
    };
}
