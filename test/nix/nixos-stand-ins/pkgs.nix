# STAND-IN for nixpkgs' package set (`pkgs`), which is not on these machines: every package is a derivation whose
# builder fails, named like the package it stands for, with what it was made from as extra attributes, so the
# modules evaluate with the real `lib` and a test can see which package and which file content a module used.
# Nothing here can be built.
{ lib }:
let
  package = name: extra:
    derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "exit 1" ]; }
    // { standIn = true; } // extra;
  named = names: lib.genAttrs names (name: package name { });
  jsonValue = with lib.types;
    nullOr (oneOf [ bool int float str path (attrsOf jsonValue) (listOf jsonValue) ]) // { description = "JSON value"; };
in
lib.fix (pkgs: named [
  "coreutils" "util-linux" "socat" "waypipe" "mumble" "yggdrasil" "jq" "hjson-go" "syncthing" "wireguard-tools"
  "zerotierone" "openssh" "virtiofsd" "restic" "virt-viewer" "nodejs" "nix" "pipewire" "glib"
  "pkg-config" "python3" "gobject-introspection" "cairo" "gtk4" "libadwaita" "wrapGAppsHook4" "makeWrapper"
]
// {
  runtimeShell = "${package "bash" { }}/bin/bash";
  stdenv.hostPlatform = { system = "x86_64-linux"; qemuArch = "x86_64"; };
  qemu_kvm = package "qemu" { };

  writeText = name: text: package name { inherit text; };
  writeTextDir = path: text: package (baseNameOf path) { inherit path text; };
  writeShellScriptBin = name: text: package name { inherit text; };
  runCommand = name: env: command: package name { inherit env command; };
  # pkgs.formats.json's type, as pkgs/pkgs-lib/formats.nix declares it: any JSON value.
  formats.json = _: { type = jsonValue; generate = name: value: package name { json = builtins.toJSON value; }; };

  # Records what package.nix asks buildNpmPackage and importNpmLock for.
  buildNpmPackage = arguments: package "${arguments.pname}-${arguments.version}" { buildNpmPackageArguments = arguments; };
  importNpmLock = {
    __functor = _: arguments: package "npm-deps" { importNpmLockArguments = arguments; };
    npmConfigHook = package "npm-config-hook" { };
  };
  # Records the test it was given.
  testers.runNixOSTest = test: package "vm-test-run-${test.name}" { nixosTest = test; };
  callPackage = file: arguments:
    let function = if builtins.isFunction file then file else import file;
    in function (builtins.intersectAttrs (builtins.functionArgs function) (pkgs // { inherit lib; }) // arguments);
})
