// How a string becomes part of an i3 or sway command without becoming code. Measured on sway 1.7 and i3 4.22
// (test/sway/hostile-names.e2e.test.ts proves it on both):
//
// - i3 parses a double-quoted string and unescapes \" and \\ in it: every string is expressible.
// - sway splits commands on ';' and ',' outside quotes (double or single) and respects backslash escapes while
//   doing so, but never removes a backslash: "a\"b" names a workspace a\"b. A string containing '"' can only be
//   written in single quotes, one containing both quote kinds not at all, and one ending in an odd number of
//   backslashes would escape its own closing quote.
// - sway replaces $name with the config variable of that name in every argument, quoted or not, and "\$" keeps
//   its backslash: a '$' cannot be written exactly.
// - sway compares keywords after removing the quotes: workspace "next" is the next workspace, mark "--add" is a
//   flag. Builders in commands.ts reject such words.
// - Criteria values are PCRE regexes on both. sway unescapes only \" in them, i3 \" and \\; every other
//   backslash reaches PCRE untouched. So a literal value is written with \x{..} escapes for everything but
//   letters and digits, which needs no quote or backslash handling at all, and anchored with \A…\z ('$' would
//   also match before a final newline, and sway would try to expand it).

export type WmDialect = "sway" | "i3";

export type UnsafeArgumentReason =
  | "empty"
  | "too-long"
  | "control-character"
  | "both-quote-kinds"
  | "dollar-sign"
  | "trailing-backslash"
  | "reserved-word"
  | "not-a-colour"
  | "not-an-id"
  | "unsupported-criterion";

/** A string cannot be put into a command exactly and safely: it is rejected, never altered. */
export class UnsafeCommandArgumentError extends Error {
  readonly code = "UNSAFE_COMMAND_ARGUMENT";
  constructor(
    readonly reason: UnsafeArgumentReason,
    readonly value: string,
    detail: string,
  ) {
    super(`cannot use ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} in a window manager command: ${detail}`);
    this.name = "UnsafeCommandArgumentError";
  }
}

/** Longer names are no use on a title bar or workspace button, and bound the size of every command. */
export const MAX_ARGUMENT_CODE_POINTS = 512;

// C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates (which could make
// a name display as another), and lone surrogates (not UTF-8 encodable, so not sent as written).
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

/** Rejects what no WM command should carry, whatever the dialect. */
export function assertPlainText(value: string): void {
  if (value.length === 0) throw new UnsafeCommandArgumentError("empty", value, "it is empty");
  const codePoints = [...value].length;
  if (codePoints > MAX_ARGUMENT_CODE_POINTS) {
    throw new UnsafeCommandArgumentError("too-long", value, `${codePoints} characters, more than ${MAX_ARGUMENT_CODE_POINTS}`);
  }
  const forbidden = FORBIDDEN_CHARACTERS.exec(value);
  if (forbidden) {
    const codePoint = forbidden[0].codePointAt(0) ?? 0;
    throw new UnsafeCommandArgumentError("control-character", value, `it contains U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`);
  }
}

/** Quotes `value` as one command argument that the WM reads back exactly as `value`, or throws. */
export function quoteArgument(value: string, dialect: WmDialect): string {
  assertPlainText(value);
  if (dialect === "i3") return `"${value.replace(/[\\"]/g, "\\$&")}"`;
  if (value.includes("$")) {
    throw new UnsafeCommandArgumentError("dollar-sign", value, "sway would expand '$' as a config variable");
  }
  const hasDouble = value.includes('"');
  if (hasDouble && value.includes("'")) {
    throw new UnsafeCommandArgumentError("both-quote-kinds", value, "sway cannot quote a string containing both ' and \"");
  }
  const trailingBackslashes = /\\*$/.exec(value)?.[0].length ?? 0;
  if (trailingBackslashes % 2 === 1) {
    throw new UnsafeCommandArgumentError("trailing-backslash", value, "sway would read its final backslash as escaping the closing quote");
  }
  const quote = hasDouble ? "'" : '"';
  return `${quote}${value}${quote}`;
}

/**
 * A regex (for a criteria value) matching exactly `value`, in the form both WMs pass to PCRE unchanged. Any code
 * point can be matched this way, so guest-supplied values (app ids, titles) need no other check than length.
 */
export function exactRegex(value: string): string {
  const codePoints = [...value].length;
  if (codePoints > MAX_ARGUMENT_CODE_POINTS) {
    throw new UnsafeCommandArgumentError("too-long", value, `${codePoints} characters, more than ${MAX_ARGUMENT_CODE_POINTS}`);
  }
  let escaped = "";
  for (const character of value) {
    const codePoint = character.codePointAt(0) ?? 0;
    // Letters and digits are never special; other ASCII may be (and includes the quote and the backslash), and
    // non-ASCII code points go escaped too, so that controls and lone surrogates are matched rather than sent.
    escaped += /^[A-Za-z0-9]$/.test(character) ? character : `\\x{${codePoint.toString(16)}}`;
  }
  return `\\A${escaped}\\z`;
}

/**
 * Pango markup for literal text, as numeric character references for everything that markup, the WMs'
 * %placeholders ("%title"), sway's $variables or command quoting would read: the result needs no quoting care.
 */
export function escapeMarkupText(value: string): string {
  assertPlainText(value);
  return value.replace(/[&<>"'%$\\]/g, (character) => `&#${character.charCodeAt(0)};`);
}
