# Validates a value against the subset of JSON Schema that src/shared/network-spec.ts exports, with builtins only,
# so that it evaluates without nixpkgs. Like zod it fills in defaults (a default is itself validated, so nested
# defaults apply too) and accepts a whole float such as 2.0 as an integer. It stops at the first problem, checking
# a value in zod's order (type, length or size, then pattern or items), so both sides name the same field.
#
#   validate schema value  ->  { value = <value with defaults>; }  or  { problem = { path; message; }; }
#
# A keyword outside the subset is a bug in the schema's export, not in a config: it aborts evaluation loudly.
let
  inherit (builtins)
    attrNames concatStringsSep elem elemAt filter floor genList hasAttr head isAttrs isBool isFloat isInt isList
    isString length listToAttrs map match stringLength toJSON;

  supportedKeywords = [
    "$schema" "$id" "title" "description" "default"
    "type" "enum" "minLength" "maxLength" "pattern" "patternMessage"
    "minimum" "maximum" "minItems" "maxItems" "items"
    "properties" "required" "additionalProperties" "propertyNames"
  ];

  checkedKeywords = path: schema:
    let unsupported = filter (keyword: !elem keyword supportedKeywords) (attrNames schema);
    in
    if unsupported == [ ] then schema
    else throw "clan-desktop: nix/lib/json-schema.nix cannot interpret the keyword ${toJSON (head unsupported)} of the network configs schema (at ${toJSON path})";

  accept = value: { inherit value; };
  reject = path: message: { problem = { inherit path message; }; };
  failed = result: result ? problem;

  # The first failed result of a list, computing no result after it; null when every one succeeded.
  firstFailure = results:
    let
      from = index:
        if index == length results then null
        else if failed (elemAt results index) then elemAt results index
        else from (index + 1);
    in
    from 0;

  typeWords = {
    string = "a string";
    integer = "an integer";
    boolean = "true or false";
    object = "an object";
    array = "a list";
  };

  hasType = type: value: {
    string = isString value;
    integer = isInt value || (isFloat value && floor value == value);
    boolean = isBool value;
    object = isAttrs value;
    array = isList value;
  }.${type};

  # Bounds in zod's words: "must be at most 64", "must have at most 32 items", "must be at most 253 characters".
  boundFailure = path: schema: { measure, minimum, maximum, unit }:
    let verb = if unit == " items" then "have" else "be";
    in
    if schema ? ${minimum} && measure < schema.${minimum}
    then reject path "must ${verb} at least ${toString schema.${minimum}}${unit}"
    else if schema ? ${maximum} && measure > schema.${maximum}
    then reject path "must ${verb} at most ${toString schema.${maximum}}${unit}"
    else null;

  # zod writes patterns for JavaScript; the export keeps them anchored and inside POSIX ERE, which builtins.match
  # applies to the whole string.
  matchesPattern = pattern: value:
    if match "\\^.*\\$" pattern == null
    then throw "clan-desktop: the network configs schema has an unanchored pattern ${toJSON pattern}"
    else match pattern value != null;

  validateString = path: schema: value:
    let
      lengthFailure = boundFailure path schema {
        measure = stringLength value; minimum = "minLength"; maximum = "maxLength"; unit = " characters";
      };
    in
    if lengthFailure != null then lengthFailure
    else if schema ? pattern && !(matchesPattern schema.pattern value)
    then reject path (schema.patternMessage or "must match ${schema.pattern}")
    else accept value;

  validateInteger = path: schema: value:
    let
      integer = if isFloat value then floor value else value;
      rangeFailure = boundFailure path schema { measure = integer; minimum = "minimum"; maximum = "maximum"; unit = ""; };
    in
    if rangeFailure != null then rangeFailure else accept integer;

  validateArray = path: schema: value:
    let
      sizeFailure = boundFailure path schema { measure = length value; minimum = "minItems"; maximum = "maxItems"; unit = " items"; };
      items = genList (index: validate (path ++ [ index ]) schema.items (elemAt value index)) (length value);
      itemFailure = firstFailure items;
    in
    if sizeFailure != null then sizeFailure
    else if itemFailure != null then itemFailure
    else accept (map (item: item.value) items);

  validateObject = path: schema: value:
    let
      properties = schema.properties or { };
      required = schema.required or [ ];
      extra = schema.additionalProperties or true;
      otherNames = filter (name: !(hasAttr name properties)) (attrNames value);

      propertyResult = name:
        if hasAttr name value then validate (path ++ [ name ]) properties.${name} value.${name}
        else if properties.${name} ? default then validate (path ++ [ name ]) properties.${name} properties.${name}.default
        else if elem name required then reject (path ++ [ name ]) "is required"
        else null;
      declared = filter (entry: entry.result != null)
        (map (name: { inherit name; result = propertyResult name; }) (attrNames properties));

      nameFailure = name:
        if schema ? propertyNames && !(matchesPattern schema.propertyNames.pattern name)
        then reject (path ++ [ name ]) (schema.propertyNames.patternMessage or "invalid name")
        else null;
      otherResult = name:
        let failure = nameFailure name; in
        if failure != null then failure
        else if extra == false then reject (path ++ [ name ]) "unknown field"
        else if extra == true then accept value.${name}
        else validate (path ++ [ name ]) extra value.${name};
      others = map (name: { inherit name; result = otherResult name; }) otherNames;

      results = declared ++ others;
      failure = firstFailure (map (entry: entry.result) results);
    in
    if failure != null then failure
    else accept (listToAttrs (map (entry: { inherit (entry) name; value = entry.result.value; }) results));

  validate = path: uncheckedSchema: value:
    let schema = checkedKeywords path uncheckedSchema;
    in
    if schema ? enum then
      (if elem value schema.enum then accept value
       else reject path "must be one of ${concatStringsSep ", " (map toJSON schema.enum)}")
    else if !(hasType schema.type value) then reject path "must be ${typeWords.${schema.type}}"
    else {
      string = validateString;
      integer = validateInteger;
      boolean = _: _: accept;
      array = validateArray;
      object = validateObject;
    }.${schema.type} path schema value;
in
{
  validate = validate [ ];
  inherit failed;
}
