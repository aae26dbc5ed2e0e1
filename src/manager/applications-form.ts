import type { NetworkApplications } from "../shared/applications-api.js";
import { configsDiff } from "../shared/network-configs-diff.js";
import { networkEntryFields, type ConfigsField } from "../shared/network-configs-fields.js";
import { checkNetworkConfigs, describeNetworkSpecProblem } from "../shared/network-spec.js";
import { terminalSafe } from "../shared/untrusted-text.js";

// The Applications form without GTK: a network's configs.json (as clan-sessiond read it) turned into one field per
// leaf of the schema nix/lib validates with (network-configs-fields.ts), the user's edits applied to a draft, and
// what the page shows before saving: the draft's problems (the words Nix would use) and its diff against the file.
// The file may have been written by anyone: it is parsed as data, everything shown of it is made safe text, and
// a file that is not valid configs is shown as its problem, never half-edited. A network whose configs.json is not
// the user's to edit (a joined one: clan-sessiond sends the file its current generation was built from) gets the
// same fields, read-only, each value as text.

const MAX_SHOWN = 300;
const MAX_LINES = 40;

export type FieldValue = boolean | string | number | string[];

export interface FormFieldView {
  /** The field's path joined by "." — the key the page uses for its widget. */
  key: string;
  field: ConfigsField;
  /** The draft's value, or the schema's default when the draft has none; undefined when it has neither. */
  value: FieldValue | undefined;
}

export type ApplicationsFormView =
  /** `fields` is empty when there is no file to show (the reason says why). */
  | { kind: "read-only"; reason: string; fields: FormFieldView[] }
  | { kind: "unusable"; problem: string }
  | { kind: "form"; entry: string; fields: FormFieldView[]; problems: string[]; diff: string[]; changed: boolean };

type Json = Record<string, unknown>;

export class ApplicationsForm {
  private readonly original: Json | undefined;
  private draft: Json | undefined;
  private readonly problem: string;
  readonly entry: string;

  constructor(readonly read: NetworkApplications) {
    this.entry = read.entry;
    const parsed = parseEntryFile(read);
    this.problem = parsed.problem;
    this.original = parsed.configs;
    this.draft = parsed.configs === undefined || !read.editable ? undefined : structuredClone(parsed.configs);
  }

  view(): ApplicationsFormView {
    if (!this.read.editable) {
      const reason = this.problem === "" ? this.read.reason : `${this.read.reason}; ${this.problem}`;
      return { kind: "read-only", reason: shown(reason), fields: this.original ? fieldsOf(this.original[this.entry] as Json) : [] };
    }
    if (!this.draft || !this.original) return { kind: "unusable", problem: shown(`${this.problem}; fix it in a text editor`) };
    const fields = fieldsOf(this.draft[this.entry] as Json);
    const checked = checkNetworkConfigs(this.draft);
    const problems = checked.ok ? [] : checked.problems.slice(0, MAX_LINES).map((problem) => shown(describeNetworkSpecProblem(problem)));
    const diff = configsDiff(this.original, this.draft).slice(0, MAX_LINES).map(shown);
    return { kind: "form", entry: shown(this.entry), fields, problems, diff, changed: diff.length > 0 };
  }

  /** Sets one field of the entry; a text list is given as its lines. Objects on the way are created. */
  set(key: string, value: FieldValue): void {
    if (!this.draft) return;
    const path = key.split(".");
    let node = this.draft[this.entry] as Json;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Json;
    }
    node[path.at(-1)!] = value;
  }

  /** The draft as the text clan-sessiond writes. */
  text(): string {
    return `${JSON.stringify(this.draft ?? {}, null, 2)}\n`;
  }
}

/** A field's value as a read-only row shows it. */
export function valueText(value: FieldValue | undefined): string {
  if (value === undefined) return "not set";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length === 0 ? "none" : shown(value.join(", "));
  return shown(String(value));
}

/** A text list typed as lines (or commas): blank items dropped. */
export function listFromText(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function parseEntryFile(read: NetworkApplications): { configs: Json | undefined; problem: string } {
  if (read.configs === "") return { configs: undefined, problem: read.editable ? `${read.path} does not exist` : "" };
  let raw: unknown;
  try {
    raw = JSON.parse(read.configs);
  } catch (error) {
    return { configs: undefined, problem: `${read.path} is not JSON (${(error as Error).message})` };
  }
  const checked = checkNetworkConfigs(raw);
  if (!checked.ok) {
    const first = checked.problems.slice(0, 3).map(describeNetworkSpecProblem).join("; ");
    return { configs: undefined, problem: `${read.path} is not valid: ${first}` };
  }
  const configs = raw as Json;
  const entry = configs[read.entry];
  if (typeof entry !== "object" || entry === null) return { configs: undefined, problem: `${read.path} has no entry ${read.entry}, which this network builds` };
  return { configs, problem: "" };
}

function fieldsOf(entry: Json): FormFieldView[] {
  return networkEntryFields().map((field) => ({ key: field.path.join("."), field, value: valueAt(entry, field) }));
}

function valueAt(entry: Json, field: ConfigsField): FieldValue | undefined {
  let node: unknown = entry;
  for (const part of field.path) node = typeof node === "object" && node !== null ? (node as Json)[part] : undefined;
  const value = node ?? field.default;
  return isFieldValue(value) ? value : undefined;
}

function isFieldValue(value: unknown): value is FieldValue {
  return typeof value === "boolean" || typeof value === "string" || typeof value === "number" || (Array.isArray(value) && value.every((item) => typeof item === "string"));
}

function shown(text: string): string {
  return terminalSafe(text, { maxChars: MAX_SHOWN });
}
