# nixosModules.host with `host` (the services.clan-desktop settings, JSON) through nixpkgs' real lib.evalModules, with
# the named stand-ins of ./nixos-stand-ins for the rest of NixOS and for pkgs; the stand-in buildNpmPackage and
# importNpmLock record what nix/package.nix asks of them. Gives what the tests check.
{ nixpkgsLib, host }:
let
  lib = import nixpkgsLib;
  standIns = import ./nixos-stand-ins { inherit lib; };
  evaluated = lib.evalModules {
    modules = standIns.modules ++ [
      (import ../../nix/outputs.nix { nixpkgs = throw "the flake's nixpkgs is not used by nixosModules.host"; }).nixosModules.host
      { services.clan-desktop = builtins.fromJSON host; }
      { _module.args.pkgs = standIns.pkgs; }
    ];
  };
  inherit (evaluated) config;
  package = config.services.clan-desktop.package;
  arguments = package.buildNpmPackageArguments;
  built = drv: { inherit (drv) name; command = drv.command or null; text = drv.text or null; path = drv.path or null; };
in
{
  failedAssertions = map (assertion: assertion.message) (lib.filter (assertion: !assertion.assertion) config.assertions);
  inherit (config) warnings;
  userServices = { inherit (config.systemd.user.services) clan-vmd clan-sessiond; };
  dbusPackages = map built config.services.dbus.packages;
  etc = lib.mapAttrs (_: file: if file.source == null then { inherit (file) text; } else built file.source) config.environment.etc;
  mime = config.xdg.mime.defaultApplications;
  systemPackages = map (drv: drv.name) config.environment.systemPackages;
  package = {
    inherit (package) name;
    arguments = removeAttrs arguments [ "npmDeps" "npmConfigHook" "src" ];
    source = "${arguments.src}";
    npmConfigHook = arguments.npmConfigHook.name;
    npmDeps = arguments.npmDeps.importNpmLockArguments;
  };
}
