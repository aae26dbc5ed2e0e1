# A FAKE of the few nixpkgs `lib` functions that nix/guest/options.nix calls, because nixpkgs is not on these
# machines. Types become readable strings, so a test can compare the declared options with the schema's fields.
let
  inherit (builtins) toJSON;
in
{
  mkOption = declaration: declaration;
  mkEnableOption = name: { type = "bool"; default = false; description = "Whether to enable ${name}."; };
  literalExpression = text: { literalExpression = text; };
  inherit (builtins) mapAttrs;
  types = {
    bool = "bool";
    str = "str";
    lines = "lines";
    enum = values: "enum ${toJSON values}";
    strMatching = pattern: "strMatching ${toJSON pattern}";
    ints.between = lowest: highest: "ints.between ${toString lowest} ${toString highest}";
    listOf = type: "listOf (${if builtins.isString type then type else "submodule"})";
    nullOr = type: if builtins.isString type then "nullOr (${type})" else { nullOr = type; };
    submodule = module: { submodule = module.options; };
    addCheck = type: _check: "${type} (checked)";
  };
}
