# clan-desktop's Nix library: network configs (configs.json) turned into NixOS modules of network VMs.
# Builtins only, so `import ./nix/lib` and the flake's `lib` output evaluate without nixpkgs; only mkNetworkVM(s)
# use the nixpkgs they are given.
let
  inherit (builtins)
    attrNames concatStringsSep foldl' fromJSON genList isInt length mapAttrs readFile removeAttrs toJSON;

  jsonSchema = import ./json-schema.nix;
  guestModule = ../guest/module.nix;

  # The one definition of configs.json, exported from src/shared/network-spec.ts.
  networkConfigsSchema = fromJSON (readFile ./network-configs.schema.json);

  # Field paths as the TypeScript side prints them: applications.syncthing.sharedFolders[0]
  formatField = segments:
    concatStringsSep "" (genList
      (index:
        let segment = builtins.elemAt segments index; in
        if isInt segment then "[${toString segment}]"
        else if index == 0 then segment
        else ".${segment}")
      (length segments));

  # The same words as describeNetworkSpecProblem in src/shared/network-spec.ts.
  formatProblem = { path, message }:
    if path == [ ] then message
    else
      let
        entry = builtins.head path;
        field = builtins.tail path;
      in
      "entry ${toJSON entry}${if field == [ ] then "" else ", field ${toJSON (formatField field)}"}: ${message}";

  /* Checks configs without failing: { ok = true; configs = <with defaults>; } or { ok = false; problem = "…"; }.
     For tools (a wizard may call `nix eval`); modules use validateNetworkConfigs. */
  checkNetworkConfigs = configs:
    let result = jsonSchema.validate networkConfigsSchema configs;
    in
    if jsonSchema.failed result then { ok = false; problem = formatProblem result.problem; }
    else { ok = true; configs = result.value; };

  /* The configs with every default filled in; evaluation fails naming the entry and field of the first problem. */
  validateNetworkConfigs = configs:
    let checked = checkNetworkConfigs configs;
    in
    if checked.ok then checked.configs else throw "clan-desktop network configs: ${checked.problem}";

  /* The option values of nixosModules.guest that one validated entry sets: its fields map one to one onto
     services.clan-desktop-guest, except `system`, which is the platform nixpkgs builds for. */
  networkOptions = name: entry: {
    nixpkgs.hostPlatform = entry.system;
    services.clan-desktop-guest = { enable = true; networkName = name; } // removeAttrs entry [ "system" ];
  };

  /* configs (e.g. builtins.fromJSON (builtins.readFile ./configs.json)) → { <name> = <NixOS module>; }. Each module
     imports nixosModules.guest, so it is all a network VM's nixosSystem needs. */
  generateNixosModules = configs:
    mapAttrs
      (name: entry: {
        _file = "clan-desktop network configs, entry ${toJSON name}";
        imports = [ guestModule ];
        config = networkOptions name entry;
      })
      (validateNetworkConfigs configs);

  /* { nixpkgs, configs, sharedModules ? [ modules of every network ], modules ? { <name> = [ modules ]; } }
     → { <name> = nixosSystem; } */
  mkNetworkVMs = { nixpkgs, configs, sharedModules ? [ ], modules ? { } }:
    mapAttrs
      (name: module: nixpkgs.lib.nixosSystem { modules = [ module ] ++ sharedModules ++ (modules.${name} or [ ]); })
      (generateNixosModules configs);

  /* One network VM described in Nix: mkNetworkVM { inherit nixpkgs; name = "family";
     config = { system = "x86_64-linux"; networkLayer = "yggdrasil"; }; modules = [ ./family.nix ]; } */
  mkNetworkVM = { nixpkgs, name, config, modules ? [ ] }:
    (mkNetworkVMs { inherit nixpkgs; configs.${name} = config; modules.${name} = modules; }).${name};

  /* { <system> = { <name> = toplevel; }; }: a flake's packages, so that clan-sessiond's source
     { "flake": …, "attribute": "packages.x86_64-linux.<name>" } builds a network's generation. */
  generationPackages = configs: nixosConfigurations:
    let validated = validateNetworkConfigs configs;
    in
    foldl'
      (packages: name:
        let system = validated.${name}.system; in
        packages // {
          ${system} = (packages.${system} or { }) // {
            ${name} = nixosConfigurations.${name}.config.system.build.toplevel;
          };
        })
      { }
      (attrNames validated);

  /* vm.json of a generation (the zod schema VmSpec in src/shared/vm-spec.ts) from the guest's options. The store
     share is the guest's /nix/store, read-only over virtiofs: clan-vmd serves the toplevel's closure through it
     and nothing else of the host's store. */
  vmSpec = { vm, readyTimeoutSeconds, sourceRevision ? null }:
    {
      inherit (vm) memoryMiB cores display stateDiskMiB;
      shares = [{ tag = "nix-store"; source = "/nix/store"; readOnly = true; }];
      # Confined: clan-vmd runs mode "user" with restrict=on, so the guest reaches neither the host nor beyond it.
      network = { mode = "user"; forwards = [ ]; };
      readiness = "control-port";
      inherit readyTimeoutSeconds;
    }
    // (if (vm.audio or "none") == "none" then { } else { inherit (vm) audio; })
    // (if (vm.display or "none") == "waypipe" && vm ? waypipe then { inherit (vm) waypipe; } else { })
    // (if sourceRevision == null then { } else { inherit sourceRevision; });
in
{
  inherit
    networkConfigsSchema checkNetworkConfigs validateNetworkConfigs networkOptions generateNixosModules
    mkNetworkVM mkNetworkVMs generationPackages vmSpec;
}
