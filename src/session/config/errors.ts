import { ParseErrorCode, type ParseError } from "jsonc-parser";
import type { z } from "zod";

// Why a config file was not accepted, as a value that names the file and, where there is one, the field: it is
// logged, shown by `clanctl`, and published on D-Bus, so it is plain data with a ready-made human message.

/** One field that failed validation. `path` is a JSON path such as `networks.family.colour`; "" is the top level. */
export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

export type ConfigError =
  | { readonly kind: "missing"; readonly file: string; readonly message: string }
  | { readonly kind: "unreadable"; readonly file: string; readonly reason: string; readonly message: string }
  | {
      readonly kind: "syntax";
      readonly file: string;
      /** 1-based; absent only if JSON.parse refused a text that jsonc-parser accepted. */
      readonly line?: number;
      readonly column?: number;
      readonly reason: string;
      readonly message: string;
    }
  | { readonly kind: "invalid"; readonly file: string; readonly problems: readonly ConfigProblem[]; readonly message: string };

export function missingFileError(file: string): ConfigError {
  return { kind: "missing", file, message: `${file}: no such file (see docs/config.md for its format)` };
}

export function unreadableFileError(file: string, reason: string): ConfigError {
  return { kind: "unreadable", file, reason, message: `${file}: cannot read: ${reason}` };
}

// jsonc-parser's error codes in the words of someone editing the file by hand.
const SYNTAX_REASONS: Record<ParseErrorCode, string> = {
  [ParseErrorCode.InvalidSymbol]: "unexpected text here (strings and names take double quotes)",
  [ParseErrorCode.InvalidNumberFormat]: "not a valid number",
  [ParseErrorCode.PropertyNameExpected]: "expected a field name in double quotes (a trailing comma before '}' is not allowed)",
  [ParseErrorCode.ValueExpected]: "expected a value (a trailing comma before ']' is not allowed)",
  [ParseErrorCode.ColonExpected]: "expected ':' after the field name",
  [ParseErrorCode.CommaExpected]: "expected ',' between two entries",
  [ParseErrorCode.CloseBraceExpected]: "expected '}' to close the object",
  [ParseErrorCode.CloseBracketExpected]: "expected ']' to close the list",
  [ParseErrorCode.EndOfFileExpected]: "more text after the end of the JSON",
  [ParseErrorCode.InvalidCommentToken]: "a comment is not closed",
  [ParseErrorCode.UnexpectedEndOfComment]: "a /* comment is not closed with */",
  [ParseErrorCode.UnexpectedEndOfString]: "a string is not closed (a line break inside a string is not allowed; write \\n)",
  [ParseErrorCode.UnexpectedEndOfNumber]: "a number ends too early",
  [ParseErrorCode.InvalidUnicode]: "a \\u escape needs four hexadecimal digits",
  [ParseErrorCode.InvalidEscapeCharacter]: "a string has an escape JSON does not know",
  [ParseErrorCode.InvalidCharacter]: "a string contains a control character (write it as an escape such as \\t)",
};

/** Names the line and column (1-based) of the first place where `text` stops being JSON with comments. */
export function jsonSyntaxError(file: string, text: string, error: ParseError): ConfigError {
  const reason = SYNTAX_REASONS[error.error];
  const before = text.slice(0, error.offset);
  const line = before.split("\n").length;
  const column = error.offset - before.lastIndexOf("\n");
  return { kind: "syntax", file, line, column, reason, message: `${file}:${line}:${column}: invalid JSON: ${reason}` };
}

/** A text jsonc-parser accepted and JSON.parse did not: no position to name, JSON.parse's words for the rest. */
export function unlocatedSyntaxError(file: string, error: SyntaxError): ConfigError {
  const reason = error.message.replace(/ in JSON at position \d+.*$/s, "").replace(/, .*is not valid JSON$/s, "");
  return { kind: "syntax", file, reason, message: `${file}: invalid JSON: ${reason}` };
}

export function invalidConfigError(file: string, issues: readonly z.core.$ZodIssue[]): ConfigError {
  const problems = issues.flatMap((issue) => problemsOf(issue, []));
  const lines = problems.map(({ path, reason }) => `${file}: ${path === "" ? "(top level)" : path}: ${reason}`);
  return { kind: "invalid", file, problems, message: lines.join("\n") };
}

function problemsOf(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): ConfigProblem[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    // One problem per key, at the key itself: "networks.family.colr: unknown field" points at the typo.
    return issue.keys.map((key) => ({ path: formatJsonPath([...path, key]), reason: "unknown field" }));
  }
  if (issue.code === "invalid_union") {
    const branch = closestBranch(issue.errors);
    if (branch) return branch.flatMap((inner) => problemsOf(inner, path));
  }
  return [{ path: formatJsonPath(path), reason: issue.message }];
}

// A union fails with the issues of every branch. When the branches agree (a missing field is "required" in each),
// that is the answer. Otherwise the branch with fewest issues is the one the user meant ({"profile": "relative"}
// is a bad profile, not a flake without "flake"); if there is no single such branch, the union's own message,
// which lists the forms, is clearer than either.
function closestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const [first, ...others] = branches;
  const signature = (issues: readonly z.core.$ZodIssue[]) => JSON.stringify(issues.map(({ path, message }) => [path, message]));
  if (first && others.every((issues) => signature(issues) === signature(first))) return first;
  const fewest = Math.min(...branches.map((issues) => issues.length));
  const candidates = branches.filter((issues) => issues.length === fewest);
  return candidates.length === 1 ? candidates[0] : undefined;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `networks.family.workspaces[0]`; keys that are not plain words are quoted: `networks["Bad Name"]`. */
function formatJsonPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (typeof segment === "string" && PLAIN_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}
