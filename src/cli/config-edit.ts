import { readFile } from "node:fs/promises";
import { applyEdits, createScanner, findNodeAtLocation, parseTree, SyntaxKind, type Edit } from "jsonc-parser";
import { ClanError } from "../shared/errors.js";
import { replaceFile } from "../session/config/config-edits.js";
import { parseConfigText } from "../session/config/load.js";
import type { Config } from "../session/config/schema.js";

// Adding a network to config.json for `clanctl join`. The file belongs to the user: an edit inserts the new
// network and changes nothing else — comments, order, indentation and line ends stay (the text is edited where
// jsonc-parser's parse tree places the network, docs/decisions/config-parsing.md) — is validated as a whole before it is written, and replaces the file in one
// rename, so clan-sessiond's hot reload never sees half a file. A config that is already invalid is not touched:
// joining must not bury an existing problem under a new edit.

/** The JSON of one network as the user would write it (config.md, "A network"). */
export type NetworkEntryJson = Record<string, unknown>;

export interface ConfigFileState {
  config: Config;
  /** The file's text as read, to which an edit adds. */
  text: string;
}

const NEW_FILE = '{\n  "networks": {}\n}\n';

export async function readConfigForEdit(file: string): Promise<ConfigFileState> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    text = NEW_FILE;
  }
  const parsed = parseConfigText(text, file);
  if (!parsed.ok) throw new ClanError("InvalidState", `fix ${file} before joining a network; it has problems:\n${parsed.error.message}`);
  return { config: parsed.config, text };
}

export async function addNetworkToConfig(file: string, state: ConfigFileState, name: string, entry: NetworkEntryJson): Promise<void> {
  if (Object.hasOwn(state.config.networks, name)) throw new ClanError("InvalidArgument", `${file} already has a network named ${name}`);
  const bom = state.text.startsWith("\uFEFF") ? "\uFEFF" : "";
  const json = state.text.slice(bom.length);
  const text = bom + applyEdits(json, networkInsertion(json, name, entry));
  const checked = parseConfigText(text, file);
  if (!checked.ok) throw new ClanError("InvalidArgument", `the new network would make ${file} invalid:\n${checked.error.message}`);
  await replaceFile(file, text);
}

// jsonc-parser's own modify() reformats the lines around an edit (a neighbour written on one line is spread over
// several), so the insertion is placed by hand on its parse tree: the new network goes after the last one, on
// lines of its own, indented like its neighbours, after any comment that ends the last one's line.
function networkInsertion(json: string, name: string, entry: NetworkEntryJson): Edit[] {
  const networks = findNodeAtLocation(parseTree(json)!, ["networks"])!;
  const eol = json.includes("\r\n") ? "\r\n" : "\n";
  const unit = /\n([ \t]+)\S/.exec(json)?.[1] ?? "  ";
  const last = networks.children?.at(-1);
  const outerIndent = indentationAt(json, networks.parent!.offset);
  const indent = last ? indentationAt(json, last.offset) : outerIndent + unit;
  const member = `${JSON.stringify(name)}: ${JSON.stringify(entry, null, unit).replaceAll("\n", eol + indent)}`;
  if (!last) {
    // An empty object's inside is replaced when it is only spaces; a comment in it stays.
    const inside = json.slice(networks.offset + 1, networks.offset + networks.length - 1);
    const length = inside.trim() === "" ? inside.length : 0;
    return [{ offset: networks.offset + 1, length, content: `${eol}${indent}${member}${eol}${outerIndent}` }];
  }
  const end = last.offset + last.length;
  return [
    { offset: end, length: 0, content: "," },
    { offset: endOfTrailingComments(json, end), length: 0, content: `${eol}${indent}${member}` },
  ];
}

/** The whitespace that starts the line holding `offset`. */
function indentationAt(json: string, offset: number): string {
  const lineStart = json.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(json.slice(lineStart))![0];
}

/** Where the line of `offset` ends, when only spaces and comments follow it there; else `offset` itself. */
function endOfTrailingComments(json: string, offset: number): number {
  const scanner = createScanner(json, false);
  scanner.setPosition(offset);
  let end = offset;
  for (;;) {
    const token = scanner.scan();
    if (token === SyntaxKind.LineBreakTrivia) return end;
    if (token === SyntaxKind.Trivia) continue;
    if (token === SyntaxKind.LineCommentTrivia || token === SyntaxKind.BlockCommentTrivia) {
      end = scanner.getTokenOffset() + scanner.getTokenLength();
      continue;
    }
    return offset;
  }
}

// Distinct on dark and light bars; the first one no other network uses is taken.
const PALETTE = ["#e06c75", "#56b6c2", "#98c379", "#c678dd", "#e5c07b", "#61afef", "#d19a66", "#be5046", "#2e7dbf", "#7fba00", "#f78c6c", "#89ddff"];

export function freeColour(config: Config): string {
  const used = new Set(Object.values(config.networks).map((network) => network.colour.toLowerCase()));
  return PALETTE.find((colour) => !used.has(colour)) ?? PALETTE[used.size % PALETTE.length]!;
}

/** "N:<name>" with the smallest N that no network's workspace uses as its number. */
export function freeWorkspace(config: Config, name: string): string {
  const numbers = new Set<number>();
  for (const network of Object.values(config.networks)) {
    for (const workspace of network.workspaces) {
      const number = /^(\d+)(:|$)/.exec(workspace)?.[1];
      if (number !== undefined) numbers.add(Number(number));
    }
  }
  let candidate = 1;
  while (numbers.has(candidate)) candidate += 1;
  return `${candidate}:${name}`;
}

/** A network name from a source's last path part ("…/chess-club.git" → "chess-club"), unique in the config. */
export function freeNetworkName(config: Config, sourcePath: string): string {
  const last = sourcePath.split(/[/?]/).filter(Boolean).at(-1) ?? "network";
  let base = last.replace(/\.git$/, "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(base)) base = `net-${base}`;
  base = base.slice(0, 27).replace(/-+$/, "");
  if (!(base in config.networks)) return base;
  for (let suffix = 2; ; suffix += 1) if (!(`${base}-${suffix}` in config.networks)) return `${base}-${suffix}`;
}
