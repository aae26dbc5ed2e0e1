# clan-desktop's flake. The repository's flake.nix has the same outputs (nix/outputs.nix); use this one as
# `git+https://…?dir=nix` if you prefer. The package is built from the whole repository.
{
  description = "clan-desktop: workspaces that belong to private networks, whose services run in NixOS VMs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = inputs: import ./outputs.nix inputs;
}
