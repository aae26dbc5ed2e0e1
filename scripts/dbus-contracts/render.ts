import { z } from "zod";
import type { Arg, Codec, DictionaryField, InterfaceContract, MethodSpec } from "../../src/shared/contracts/define.js";
import { SessionManagerContract } from "../../src/shared/contracts/session.js";
import { VmdManagerContract, VmdVmContract } from "../../src/shared/contracts/vmd.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_PATH } from "../../src/shared/dbus-names.js";
import { NetworkStatus } from "../../src/shared/session-api.js";

// Everything `npm run schemas` derives from the D-Bus contracts (src/shared/contracts/): the introspection XML in
// share/dbus-1/interfaces/, the generated sections of docs/dbus.md, and the GNOME extension's plain-data copy.
// test/shared/dbus-contracts.test.ts fails while a committed file differs from what these functions give.

export const CONTRACTS = [VmdManagerContract, VmdVmContract, SessionManagerContract] as const;

export interface GeneratedFile {
  /** Relative to the repository. */
  path: string;
  text: string;
}

// ---- introspection XML ----

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function docAnnotation(doc: string, indent: string): string {
  return `${indent}<annotation name="org.gtk.GDBus.DocString" value="${escapeXml(doc)}"/>\n`;
}

function argXml(item: Arg, direction: "in" | "out" | undefined, indent: string): string {
  const dir = direction ? ` direction="${direction}"` : "";
  return `${indent}<arg name="${item.name}" type="${item.codec.signature}"${dir}/>\n`;
}

export function introspectionXml(contract: InterfaceContract): string {
  let xml = '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n';
  xml += ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';
  xml += "<!-- Generated from src/shared/contracts/ by `npm run schemas`; do not edit. Reference: docs/dbus.md -->\n";
  xml += "<node>\n";
  xml += `  <interface name="${contract.name}">\n`;
  xml += docAnnotation(contract.doc, "    ");
  for (const [name, spec] of Object.entries(contract.methods)) {
    xml += `    <method name="${name}">\n`;
    xml += docAnnotation(spec.doc, "      ");
    for (const item of spec.in) xml += argXml(item, "in", "      ");
    for (const item of spec.out) xml += argXml(item, "out", "      ");
    xml += "    </method>\n";
  }
  for (const [name, spec] of Object.entries(contract.signals)) {
    xml += `    <signal name="${name}">\n`;
    xml += docAnnotation(spec.doc, "      ");
    for (const item of spec.args) xml += argXml(item, undefined, "      ");
    xml += "    </signal>\n";
  }
  for (const [name, spec] of Object.entries(contract.properties)) {
    xml += `    <property name="${name}" type="${spec.codec.signature}" access="read">\n`;
    xml += docAnnotation(spec.doc, "      ");
    xml += "    </property>\n";
  }
  xml += "  </interface>\n</node>\n";
  return xml;
}

// ---- docs/dbus.md ----

function signatureLine(name: string, spec: MethodSpec): string {
  const params = spec.in.map((item) => `${item.codec.signature} ${item.name}`).join(", ");
  const out =
    spec.out.length === 0
      ? ""
      : spec.out.length === 1
        ? ` → ${spec.out[0]!.codec.signature}`
        : ` → (${spec.out.map((item) => `${item.codec.signature} ${item.name}`).join(", ")})`;
  return `${name}(${params})${out}`;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function dictionaryTable(fields: Readonly<Record<string, DictionaryField>>): string {
  const rows = Object.entries(fields).map(([key, field]) => {
    const nested = field.codec.dictionary
      ? `: ${Object.entries(field.codec.dictionary.fields)
          .map(([inner, item]) => `\`${inner}\` (\`${item.codec.signature}\`, ${item.doc})`)
          .join(", ")}`
      : "";
    return `| \`${key}\` | \`${field.codec.signature}\` | ${cell(field.doc + nested)} |`;
  });
  return ["| key | type | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** Every dictionary an interface's members carry, by name, in the order they first appear. */
function dictionariesOf(contract: InterfaceContract): Map<string, Readonly<Record<string, DictionaryField>>> {
  const found = new Map<string, Readonly<Record<string, DictionaryField>>>();
  const visit = (codec: Codec<unknown, unknown>) => {
    if (codec.dictionary && !found.has(codec.dictionary.name)) found.set(codec.dictionary.name, codec.dictionary.fields);
  };
  for (const spec of Object.values(contract.methods)) for (const item of [...spec.in, ...spec.out]) visit(item.codec);
  for (const spec of Object.values(contract.signals)) for (const item of spec.args) visit(item.codec);
  return found;
}

function interfaceReference(contract: InterfaceContract, skipDictionaries: readonly string[] = []): string {
  const parts: string[] = [];
  const methods = Object.entries(contract.methods);
  if (methods.length > 0) {
    const rows = methods.map(
      ([name, spec]) =>
        `| \`${signatureLine(name, spec)}\` | ${cell(spec.doc)} | ${(spec.errors ?? []).map((code) => `\`${code}\``).join(", ")} |`,
    );
    parts.push(["| method | what it does | errors |", "|---|---|---|", ...rows].join("\n"));
  }
  const signals = Object.entries(contract.signals);
  if (signals.length > 0) {
    const rows = signals.map(([name, spec]) => `| \`${name}(${spec.args.map((item) => `${item.codec.signature} ${item.name}`).join(", ")})\` | ${cell(spec.doc)} |`);
    parts.push(["| signal | when |", "|---|---|", ...rows].join("\n"));
  }
  const properties = Object.entries(contract.properties);
  if (properties.length > 0) {
    const rows = properties.map(([name, spec]) => `| \`${name}\` | \`${spec.codec.signature}\` | ${cell(spec.doc)} |`);
    parts.push(["| property (read-only) | type | value |", "|---|---|---|", ...rows].join("\n"));
  }
  for (const [name, fields] of dictionariesOf(contract)) {
    if (skipDictionaries.includes(name)) continue;
    parts.push(`Dictionary \`${name}\`:\n\n${dictionaryTable(fields)}`);
  }
  return parts.join("\n\n");
}

/** The generated sections of docs/dbus.md, each between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function docSections(): Record<string, string> {
  const vmStatus = VmdManagerContract.methods.List.out[0].codec.dictionary!;
  const networkStatus = SessionManagerContract.methods.GetNetwork.out[0].codec.dictionary!;
  const job = SessionManagerContract.methods.GetJob.out[0].codec.dictionary!;
  return {
    "vm-status": dictionaryTable(vmStatus.fields),
    "vmd-manager": interfaceReference(VmdManagerContract, ["VmStatus"]),
    "vmd-vm": interfaceReference(VmdVmContract),
    "network-status": dictionaryTable(networkStatus.fields),
    "session-manager": interfaceReference(SessionManagerContract, ["NetworkStatus", "Job", "VpnPeer"]),
    job: dictionaryTable(job.fields),
  };
}

export function renderDocs(current: string): string {
  let text = current;
  for (const [name, body] of Object.entries(docSections())) {
    const begin = `<!-- generated:${name} (npm run schemas; edit src/shared/contracts/) -->`;
    const end = `<!-- /generated:${name} -->`;
    const start = text.indexOf(begin);
    const stop = text.indexOf(end);
    if (start < 0 || stop < start) throw new Error(`docs/dbus.md has no section ${begin} … ${end}`);
    text = `${text.slice(0, start + begin.length)}\n\n${body}\n\n${text.slice(stop)}`;
  }
  return text;
}

// ---- the GNOME extension's copy ----

function kindOf(key: string, signature: string): string {
  const kinds: Record<string, string> = { s: "string", d: "number", u: "number", i: "number", b: "boolean", as: "string[]" };
  if (kinds[signature]) return kinds[signature];
  if (signature === "aa{sv}") return `${key.replace(/s$/, "")}[]`;
  throw new Error(`the GNOME extension cannot read a network status field of type ${signature} (${key})`);
}

function tsType(key: string, field: DictionaryField): string {
  const kind = kindOf(key, field.codec.signature);
  if (!field.codec.dictionary) return kind;
  const items = Object.entries(field.codec.dictionary.fields).map(([inner, item]) => `${inner}: ${kindOf(inner, item.codec.signature)}`);
  return `{ ${items.join("; ")} }[]`;
}

function enumValues(schema: z.ZodType): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.def.innerType as z.ZodType;
  if (inner instanceof z.ZodEnum) return inner.options.map(String);
  if (inner instanceof z.ZodUnion) return inner.options.flatMap((option) => enumValues(option as z.ZodType));
  if (inner instanceof z.ZodLiteral) return inner.values ? [...inner.values].map(String) : [];
  throw new Error("not an enum");
}

export function gnomeContract(): string {
  const status = SessionManagerContract.methods.GetNetwork.out[0].codec.dictionary!;
  const lines: string[] = [
    "// Generated from src/shared/contracts/session.ts by `npm run schemas`; do not edit.",
    "// GNOME Shell cannot import zod or src/shared, so the extension gets clan-sessiond's contract as plain data.",
    "",
    `export const SESSION_BUS_NAME = ${JSON.stringify(SESSION_BUS_NAME)};`,
    `export const SESSION_MANAGER_PATH = ${JSON.stringify(SESSION_MANAGER_PATH)};`,
    `export const SESSION_MANAGER_INTERFACE = ${JSON.stringify(SessionManagerContract.name)};`,
    "",
    "/** Each method's argument and reply signatures, as GLib.Variant wants them. */",
    "export const SESSION_METHOD_SIGNATURES = {",
    ...Object.entries(SessionManagerContract.methods).map(
      ([name, spec]) => `  ${name}: { in: ${JSON.stringify(`(${spec.in.map((item) => item.codec.signature).join("")})`)}, out: ${JSON.stringify(`(${spec.out.map((item) => item.codec.signature).join("")})`)} },`,
    ),
    "} as const;",
    "",
    "export const SESSION_PROPERTY_SIGNATURES = {",
    ...Object.entries(SessionManagerContract.properties).map(([name, spec]) => `  ${name}: ${JSON.stringify(spec.codec.signature)},`),
    "} as const;",
    "",
    "export const SESSION_SIGNAL_SIGNATURES = {",
    ...Object.entries(SessionManagerContract.signals).map(([name, spec]) => `  ${name}: ${JSON.stringify(`(${spec.args.map((item) => item.codec.signature).join("")})`)},`),
    "} as const;",
    "",
    "/** A network's status (NetworkChanged, ListNetworks) after GLib.Variant.recursiveUnpack(). */",
    "export interface NetworkStatusFields {",
    ...Object.entries(status.fields).flatMap(([key, field]) => [`  /** ${field.doc.replaceAll("*/", "* /")} */`, `  ${key}: ${tsType(key, field)};`]),
    "}",
    "",
    "/** Every field, its D-Bus signature and the JavaScript type recursiveUnpack() gives. */",
    "export const NETWORK_STATUS_FIELDS = {",
    ...Object.entries(status.fields).map(([key, field]) => `  ${key}: { signature: ${JSON.stringify(field.codec.signature)}, kind: ${JSON.stringify(kindOf(key, field.codec.signature))} },`),
    "} as const;",
    "",
    "/** The fields of the items of the list fields (aa{sv}). */",
    "export const NETWORK_STATUS_ITEM_FIELDS = {",
    ...Object.entries(status.fields)
      .filter(([, field]) => field.codec.dictionary)
      .map(
        ([key, field]) =>
          `  ${JSON.stringify(kindOf(key, field.codec.signature))}: { ${Object.entries(field.codec.dictionary!.fields)
            .map(([inner, item]) => `${inner}: ${JSON.stringify(kindOf(inner, item.codec.signature))}`)
            .join(", ")} },`,
      ),
    "} as const;",
    "",
    "/** What stands in for a field an older clan-sessiond does not send; the others are required. */",
    "export const NETWORK_STATUS_DEFAULTS: Partial<NetworkStatusFields> = {",
    ...Object.keys(status.fields).flatMap((key) => {
      const field = NetworkStatus.shape[key as keyof typeof NetworkStatus.shape];
      return field instanceof z.ZodDefault ? [`  ${key}: ${JSON.stringify(field.def.defaultValue)},`] : [];
    }),
    "};",
    "",
    `export const VM_STATES = ${JSON.stringify(enumValues(NetworkStatus.shape.vmState))} as const;`,
    `export const BACKUP_STATES = ${JSON.stringify(enumValues(NetworkStatus.shape.backupState))} as const;`,
    `export const BUILD_STATES = ${JSON.stringify(enumValues(NetworkStatus.shape.buildState))} as const;`,
    "",
  ];
  return lines.join("\n");
}

export const GNOME_CONTRACT_PATH = "src/gnome-extension/core/session-contract.ts";

// ---- clanctl's one-shot commands (src/cli/wire/): the same fields, without zod ----

export const WIRE_NETWORK_STATUS_PATH = "src/cli/wire/network-status-fields.ts";

export function wireNetworkStatusFields(): string {
  const status = SessionManagerContract.methods.GetNetwork.out[0].codec.dictionary!;
  const itemTables = Object.entries(status.fields)
    .filter(([, field]) => field.codec.dictionary)
    .map(([key, field]) => [
      `  ${key}: { ${Object.entries(field.codec.dictionary!.fields)
        .map(([inner, item]) => `${inner}: ${JSON.stringify(item.codec.signature)}`)
        .join(", ")} },`,
    ])
    .flat();
  const lines: string[] = [
    "// Generated from src/shared/contracts/session.ts by `npm run schemas`; do not edit.",
    "// clanctl's one-shot commands read a network status without zod (network-status-decoder.ts): these are its fields.",
    "",
    "/** Every field of a network status and its D-Bus signature. */",
    "export const NETWORK_STATUS_FIELDS = {",
    ...Object.entries(status.fields).map(([key, field]) => `  ${key}: ${JSON.stringify(field.codec.signature)},`),
    "} as const;",
    "",
    "/** The fields of the items of the list fields (aa{sv}). */",
    "export const NETWORK_STATUS_ITEM_FIELDS = {",
    ...itemTables,
    "} as const;",
    "",
    "/** What stands in for a field an older clan-sessiond does not send; the others are required. */",
    "export const NETWORK_STATUS_DEFAULTS = {",
    ...Object.keys(status.fields).flatMap((key) => {
      const field = NetworkStatus.shape[key as keyof typeof NetworkStatus.shape];
      return field instanceof z.ZodDefault ? [`  ${key}: ${JSON.stringify(field.def.defaultValue)},`] : [];
    }),
    "};",
    "",
  ];
  return lines.join("\n");
}

export function generatedFiles(): GeneratedFile[] {
  return [
    ...CONTRACTS.map((contract) => ({ path: `share/dbus-1/interfaces/${contract.name}.xml`, text: introspectionXml(contract) })),
    { path: GNOME_CONTRACT_PATH, text: gnomeContract() },
    { path: WIRE_NETWORK_STATUS_PATH, text: wireNetworkStatusFields() },
  ];
}
