# The clan-desktop suite (clan-vmd, clan-sessiond, clanctl), built from package-lock.json with buildNpmPackage.
# buildNpmPackage's default nodejs (an LTS release) satisfies package.json's engines (>= 20.19).
{ lib, buildNpmPackage }:
let
  packageJson = lib.importJSON ../package.json;
in
buildNpmPackage {
  pname = packageJson.name;
  inherit (packageJson) version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [ ../package.json ../package-lock.json ../tsconfig.json ../src ../bin ../share/bash-completion ../share/zsh ../share/fish ];
  };

  # The hash of the dependencies in package-lock.json. It can only be computed where nixpkgs is (it was not on the
  # machines this flake was written on): the first `nix build` fails printing "got: sha256-…"; put that here, and
  # again whenever package-lock.json changes.
  npmDepsHash = lib.fakeHash;

  # The build is `tsc` alone; no dependency needs its install script (esbuild's, pulled in by dev tools, would try
  # to fetch a binary in the sandbox).
  npmFlags = [ "--ignore-scripts" ];

  # buildNpmPackage runs `npm run build` (tsc → dist/), keeps the production dependencies and links package.json's
  # bin entries into $out/bin. The GNOME Shell extension is installed when the build produces one, and clanctl's
  # shell completions (generated into share/ by `npm run schemas`) where bash, zsh and fish look for them.
  postInstall = ''
    install -Dm644 share/bash-completion/completions/clanctl $out/share/bash-completion/completions/clanctl
    install -Dm644 share/zsh/site-functions/_clanctl $out/share/zsh/site-functions/_clanctl
    install -Dm644 share/fish/vendor_completions.d/clanctl.fish $out/share/fish/vendor_completions.d/clanctl.fish
    for metadata in dist/gnome-extension/*/metadata.json; do
      [ -e "$metadata" ] || continue
      mkdir -p $out/share/gnome-shell/extensions
      cp -r "$(dirname "$metadata")" $out/share/gnome-shell/extensions/
    done
  '';

  meta = {
    inherit (packageJson) description;
    license = lib.licenses.mit;
    mainProgram = "clanctl";
    platforms = lib.platforms.linux;
  };
}
