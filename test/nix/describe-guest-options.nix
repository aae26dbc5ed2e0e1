# The options nix/guest/options.nix declares, as nixpkgs' real lib.evalModules sees them: for each, its type's
# description (a submodule's options in place of "submodule"), its default and its description.
{ nixpkgsLib }:
let
  lib = import nixpkgsLib;
  evaluated = lib.evalModules { modules = [ ../../nix/guest/options.nix ]; };
  visible = lib.filterAttrs (name: _: !lib.hasPrefix "_" name);

  describeType = type:
    if type.name == "submodule" then { submodule = describeOptions (type.getSubOptions [ ]); }
    else if type.name == "nullOr" && type.nestedTypes.elemType.name == "submodule" then { nullOr = describeType type.nestedTypes.elemType; }
    else type.description;

  describeOption = option:
    { type = describeType option.type; description = option.description or ""; }
    // lib.optionalAttrs (option ? default && !(option.readOnly or false)) { inherit (option) default; };

  describeOptions = options:
    lib.mapAttrs (_: value: if lib.isOption value then describeOption value else describeOptions value) (visible options);
in
describeOptions evaluated.options.services.clan-desktop-guest
