# The clan-desktop suite (clan-vmd, clan-sessiond, clanctl), built with buildNpmPackage from package-lock.json alone:
# importNpmLock fetches each locked package by its integrity hash, so there is no hash of all dependencies to keep in
# step with the lock. The lock has no `resolved` URLs (npm here is set to omit them), so each package's tarball URL
# is made from npmRegistry: <registry>/<name>/-/<name without scope>-<version>.tgz, as npm's registry serves them.
# buildNpmPackage's default nodejs (an LTS release) satisfies package.json's engines (>= 20.19).
{ lib, buildNpmPackage, importNpmLock, glib, pkg-config, python3, gobject-introspection, cairo, gtk4, libadwaita
, wrapGAppsHook4, makeWrapper, socat, coreutils, npmRegistry ? null }:
let
  packageJson = lib.importJSON ../package.json;
  packageLock = lib.importJSON ../package-lock.json;

  registry =
    if npmRegistry == null then
      throw "clan-desktop's package needs npmRegistry, the base URL of the npm registry its package-lock.json was made from: callPackage ./nix/package.nix { npmRegistry = \"https://…\"; } (docs/nix.md)"
    else lib.removeSuffix "/" npmRegistry;

  # "node_modules/@girs/adw-1/node_modules/@girs/gjs" → "@girs/gjs"
  packageName = key: lib.last (lib.splitString "node_modules/" key);
  tarballUrl = key: module:
    let name = packageName key;
    in "${registry}/${name}/-/${baseNameOf name}-${module.version}.tgz";
  withTarballUrls = packageLock // {
    packages = lib.mapAttrs
      (key: module:
        if key == "" || module ? resolved || module.link or false then module
        else module // { resolved = tarballUrl key module; })
      packageLock.packages;
  };
in
buildNpmPackage {
  pname = packageJson.name;
  inherit (packageJson) version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../package.json ../package-lock.json ../tsconfig.json ../src ../bin ../scripts/build-gnome-extension.ts ../share
      # `npm run build` compiles the native parts with these: clan-wayland-filter and clan-viewer's two modules
      ../scripts/build-wayland-filter.sh ../scripts/build-viewer-native.sh
    ];
  };

  npmDeps = importNpmLock { package = packageJson; packageLock = withTarballUrls; };
  npmConfigHook = importNpmLock.npmConfigHook;

  # The build is `tsc`, then the GNOME Shell extension. Install scripts stay off (esbuild's, pulled in by tsx, would
  # try to fetch a binary in the sandbox; its platform package already holds the binary) except node-gtk's, below.
  npmFlags = [ "--ignore-scripts" ];
  # glib-compile-schemas for the extension's settings schema; node-gyp's tools for node-gtk; wrapGAppsHook4 gives
  # bin/ the GI_TYPELIB_PATH of GTK 4 and libadwaita, which clan-viewer and clan-manager load at run time;
  # makeWrapper for the bar relay's PATH.
  nativeBuildInputs = [ glib pkg-config python3 gobject-introspection wrapGAppsHook4 makeWrapper ];
  # cairo and glib also for clan-viewer's native parts, built by `npm run build` against the build's node (its headers).
  buildInputs = [ glib cairo gobject-introspection gtk4 libadwaita ];
  # node-gtk (clan-viewer, clan-manager) is the one dependency with native code. Its install script would download a
  # prebuilt binary, which the sandbox forbids: it is built from source against the node that runs the build.
  postBuild = ''
    npm run build:gnome
    npm rebuild node-gtk --ignore-scripts=false --build-from-source --nodedir="$(dirname "$(dirname "$(command -v node)")")"
  '';

  # buildNpmPackage keeps the production dependencies and links package.json's bin entries into $out/bin. Besides:
  # the GNOME Shell extension (GNOME 45 and later load the ES-module build), the link handler for clan:// and
  # nix:// links, whose Exec= gets the package's own clan-manager (its join page), the manager window's launcher (the GNOME menu's
  # "Clan Manager"), clanctl's shell completions and the D-Bus introspection XML (both generated into share/ by
  # `npm run schemas`) where bash, zsh, fish and D-Bus tools look.
  postInstall = ''
    install -Dm644 share/bash-completion/completions/clanctl $out/share/bash-completion/completions/clanctl
    install -Dm644 share/zsh/site-functions/_clanctl $out/share/zsh/site-functions/_clanctl
    install -Dm644 share/fish/vendor_completions.d/clanctl.fish $out/share/fish/vendor_completions.d/clanctl.fish
    for xml in share/dbus-1/interfaces/*.xml; do install -Dm644 "$xml" "$out/$xml"; done
    for metadata in dist/gnome-extension/esm/*/metadata.json; do
      mkdir -p $out/share/gnome-shell/extensions
      cp -r "$(dirname "$metadata")" $out/share/gnome-shell/extensions/
    done
    install -D -m 0644 share/applications/clan-desktop-join.desktop $out/share/applications/clan-desktop-join.desktop
    substituteInPlace $out/share/applications/clan-desktop-join.desktop --replace-fail "Exec=clan-manager " "Exec=$out/bin/clan-manager "
    install -D -m 0644 share/applications/clan-manager.desktop $out/share/applications/clan-manager.desktop
    substituteInPlace $out/share/applications/clan-manager.desktop --replace-fail "Exec=clan-manager" "Exec=$out/bin/clan-manager"
    # The bar's relay (docs/bar.md) is sh around socat; a bar started by the window manager may have neither socat
    # nor coreutils (mkfifo, mktemp, cat, sleep) on its PATH.
    wrapProgram $out/bin/clan-bar-relay --prefix PATH : ${lib.makeBinPath [ socat coreutils ]}
  '';

  meta = {
    inherit (packageJson) description;
    license = lib.licenses.mit;
    mainProgram = "clanctl";
    platforms = lib.platforms.linux;
  };
}
