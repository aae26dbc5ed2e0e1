import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { networkConfigsJsonSchema } from "../../src/shared/network-spec.js";
import { hasNix, nixEvalJson, nixSkipReason, testDirectory } from "./nix.js";

// nixosModules.guest declares the options a configs.json entry sets from the same JSON Schema. The real NixOS
// module system needs nixpkgs, so options.nix is evaluated with a named fake of the few lib functions it calls,
// whose types print as text; the walk below checks every field of the schema against its option.

interface SchemaNode {
  type?: string;
  enum?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
}

interface OptionDeclaration {
  type: unknown;
  default?: unknown;
  description: string;
}

function expectedType(schema: SchemaNode): unknown {
  if (schema.enum) return `enum ${JSON.stringify(schema.enum)}`;
  switch (schema.type) {
    case "integer":
      return `ints.between ${schema.minimum} ${schema.maximum}`;
    case "boolean":
      return "bool";
    case "string":
      return `strMatching ${JSON.stringify(schema.pattern)}${"maxLength" in schema ? " (checked)" : ""}`;
    case "array": {
      const items = expectedType(schema.items ?? {});
      return `listOf (${typeof items === "string" ? items : "submodule"})`;
    }
    default:
      return { submodule: expectedOptions(schema) };
  }
}

function expectedOptions(schema: SchemaNode): Record<string, OptionDeclaration> {
  const options: Record<string, OptionDeclaration> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const required = schema.required?.includes(name) ?? false;
    const type = expectedType(property);
    options[name] = { description: property.description ?? "", type };
    if ("default" in property) options[name] = { ...options[name], type, default: property.default };
    else if (!required) options[name] = { ...options[name], type: { nullOr: type }, default: null };
  }
  return options;
}

describe.skipIf(!hasNix)(`nixosModules.guest options${nixSkipReason}`, () => {
  it("declare every field of a configs.json entry but system, with its type, range, default and description", async () => {
    const options = (await nixEvalJson({
      expression: `(import ./nix/guest/options.nix { lib = import ${join(testDirectory, "fake-nixpkgs-lib.nix")}; }).options.services.clan-desktop-guest`,
    })) as Record<string, unknown>;
    const entrySchema = networkConfigsJsonSchema()["additionalProperties"] as SchemaNode;
    const { system: _platform, ...fromSchema } = expectedOptions(entrySchema);

    for (const [name, declaration] of Object.entries(fromSchema)) expect(options[name], name).toEqual(declaration);
    expect(Object.keys(options).sort()).toEqual(
      [...Object.keys(fromSchema), "enable", "networkName", "readyTimeoutSeconds", "sourceRevision", "readyAfter", "stateDirectories", "backup", "waypipe"].sort(),
    );
    expect(options["networkName"]).toMatchObject({ type: 'strMatching "^[a-z][a-z0-9-]{0,30}$"' });
  });
});
