import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkConfigsJsonSchema } from "../../src/shared/network-spec.js";
import { nixEvalJson, testDirectory } from "./nix.js";
import { hasNixpkgsLib, nixpkgsLibSkipReason, unpackNixpkgsLib } from "./real-lib.js";

// nixosModules.guest declares the options a configs.json entry sets from the same JSON Schema. options.nix is
// evaluated with nixpkgs 25.05's real lib.evalModules (test/nix/real-lib.ts); the walk below checks every field of
// the schema against its option, by the words the real option types describe themselves with.
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
  if (schema.enum) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(", ")}`;
  switch (schema.type) {
    case "integer":
      return `integer between ${schema.minimum} and ${schema.maximum} (both inclusive)`;
    case "boolean":
      return "boolean";
    case "string":
      return `string matching the pattern ${schema.pattern}`;
    case "array": {
      const items = expectedType(schema.items ?? {});
      return `list of ${typeof items === "string" ? items : "(submodule)"}`;
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
    else if (!required) options[name] = { ...options[name], type: typeof type === "string" ? `null or ${type}` : { nullOr: type }, default: null };
  }
  return options;
}

let nixpkgsLib: { lib: string; remove: () => Promise<void> };

beforeAll(async () => {
  if (hasNixpkgsLib) nixpkgsLib = await unpackNixpkgsLib();
});

afterAll(async () => {
  await nixpkgsLib?.remove();
});

describe.skipIf(!hasNixpkgsLib)(`nixosModules.guest options with nixpkgs 25.05's lib${nixpkgsLibSkipReason}`, () => {
  it("declare every field of a configs.json entry but system, with its type, range, default and description", async () => {
    const options = (await nixEvalJson(
      { file: join(testDirectory, "describe-guest-options.nix") },
      { nixpkgsLib: nixpkgsLib.lib },
    )) as Record<string, unknown>;
    const entrySchema = networkConfigsJsonSchema()["additionalProperties"] as SchemaNode;
    const { system: _platform, ...fromSchema } = expectedOptions(entrySchema);

    for (const [name, declaration] of Object.entries(fromSchema)) expect(options[name], name).toEqual(declaration);
    expect(Object.keys(options).sort()).toEqual(
      [
        ...Object.keys(fromSchema),
        "enable", "networkName", "readyTimeoutSeconds", "sourceRevision", "readyAfter", "stateDirectories", "backup", "waypipe",
        "members", "display", "audio",
      ].sort(),
    );
    expect(options["networkName"]).toMatchObject({ type: "string matching the pattern ^[a-z][a-z0-9-]{0,30}$" });
  });

  it("check a string field's maxLength, which the type's description does not show", async () => {
    // A host name of valid labels, `length` characters long.
    const hostName = (length: number) => `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(length - 192)}`;
    const check = (length: number) =>
      nixEvalJson({
        expression: `((import ${nixpkgsLib.lib}).evalModules {
          modules = [ ./nix/guest/options.nix { services.clan-desktop-guest.applications.mumbleClient.server = "${hostName(length)}"; } ];
        }).config.services.clan-desktop-guest.applications.mumbleClient.server`,
      });
    expect(await check(253)).toBe(hostName(253));
    await expect(check(254)).rejects.toThrow(/services\.clan-desktop-guest\.applications\.mumbleClient\.server/);
  });
});
