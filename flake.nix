# clan-desktop's flake: its outputs are in nix/ (nix/outputs.nix; docs/nix.md explains them).
{
  description = "clan-desktop: workspaces that belong to private networks, whose services run in NixOS VMs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = inputs: import ./nix/outputs.nix inputs;
}
