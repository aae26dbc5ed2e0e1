import type { z } from "zod";
import { locateJsonSyntaxError } from "./json-position.js";

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
      /** 1-based; absent only if locating the error failed where JSON.parse did not. */
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

/** Names the line and column where the text stops being JSON, with JSON.parse's words for what is wrong minus
 *  its position and its quote of the surrounding text (which may span lines). */
export function jsonSyntaxError(file: string, text: string, error: SyntaxError): ConfigError {
  const reason = error.message.replace(/ in JSON at position \d+.*$/s, "").replace(/, .*is not valid JSON$/s, "");
  const offset = locateJsonSyntaxError(text);
  if (offset === undefined) return { kind: "syntax", file, reason, message: `${file}: invalid JSON: ${reason}` };
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return { kind: "syntax", file, line, column, reason, message: `${file}:${line}:${column}: invalid JSON: ${reason}` };
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
