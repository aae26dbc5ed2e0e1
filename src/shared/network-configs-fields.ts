import { networkConfigsJsonSchema } from "./network-spec.js";

// The fields of one configs.json entry, read from the JSON Schema that nix/lib validates with
// (networkConfigsJsonSchema, exported from network-spec.ts): the manager's Applications form is generated from
// this list, so a field added to the schema appears in the form, and the form cannot offer a value Nix refuses.

export type ConfigsFieldKind = "boolean" | "choice" | "integer" | "text" | "text-list";

export interface ConfigsField {
  /** Path inside the entry, e.g. ["applications", "syncthing", "enable"]. */
  path: string[];
  kind: ConfigsFieldKind;
  /** "Applications › Syncthing › Enable": the path in words. */
  title: string;
  description: string;
  /** The schema's default; undefined for a field without one (a required field, or one that is only optional). */
  default?: unknown;
  choices?: string[];
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  /** What the schema says about a text's shape, for the form's hint. */
  patternMessage?: string;
  /** The object that holds the field requires it: set it before the others of that object. */
  required: boolean;
}

interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  patternMessage?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
}

/** Every leaf of a configs.json entry, in the schema's order. */
export function networkEntryFields(): ConfigsField[] {
  const entry = networkConfigsJsonSchema()["additionalProperties"] as SchemaNode;
  return leaves(entry, []);
}

function leaves(node: SchemaNode, path: string[]): ConfigsField[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const childPath = [...path, name];
    if (child.type === "object") return leaves(child, childPath);
    return [field(child, childPath, (node.required ?? []).includes(name))];
  });
}

function field(node: SchemaNode, path: string[], required: boolean): ConfigsField {
  const kind: ConfigsFieldKind =
    node.type === "boolean" ? "boolean" : node.enum ? "choice" : node.type === "integer" ? "integer" : node.type === "array" ? "text-list" : "text";
  const patternMessage = node.patternMessage ?? node.items?.patternMessage;
  return {
    path,
    kind,
    title: path.map(words).join(" › "),
    description: node.description ?? "",
    required,
    ...(node.default !== undefined ? { default: node.default } : {}),
    ...(node.enum ? { choices: node.enum } : {}),
    ...(node.minimum !== undefined ? { minimum: node.minimum } : {}),
    ...(node.maximum !== undefined ? { maximum: node.maximum } : {}),
    ...(node.maxItems !== undefined ? { maxItems: node.maxItems } : {}),
    ...(patternMessage !== undefined ? { patternMessage } : {}),
  };
}

const SPELLED: Record<string, string> = { vm: "VM", adminSshKeys: "Admin SSH keys", memoryMiB: "Memory (MiB)", stateDiskMiB: "State disk (MiB)" };

/** "sharedFolders" → "Shared folders". */
function words(name: string): string {
  const spelled = SPELLED[name];
  if (spelled !== undefined) return spelled;
  const spaced = name.replace(/([a-z])([A-Z])/g, (_match, last: string, first: string) => `${last} ${first.toLowerCase()}`);
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
