// Text a guest, a link or a peer on the bus wrote is shown as text: on a terminal an escape sequence in it must
// not set the title, write the clipboard (OSC 52) or clear the screen; in a notification body (which the
// freedesktop spec lets carry markup) a tag must not format or link. Everything here is total: it returns a
// string for any input and never recurses without a bound.

export interface TerminalSafeOptions {
  /** Keep line feeds (CR LF becomes LF) and tabs, for multi-line text such as a console log; otherwise they are escaped too. */
  multiline?: boolean;
  /** Longer text is cut, saying how much was left out. */
  maxChars?: number;
}

// C0 controls, DEL and C1 controls (0x9B is CSI on terminals that read 8-bit controls), bidi embeddings,
// overrides and isolates (a right-to-left override makes "exe.txt" read "txt.exe"), line and paragraph
// separators, and UTF-16 surrogates that are not part of a pair.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_EXCEPT_LAYOUT = new RegExp(`(?![\\n\\t])(?:${UNSAFE.source})`, "g");

const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r" };

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named) return named;
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Decodes bytes as UTF-8; an invalid sequence becomes U+FFFD, which is safe to show. */
function decodeUntrusted(input: string | Uint8Array): string {
  return typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("utf8");
}

/** Cuts `text` to `maxChars`, saying how many characters were left out, never splitting a surrogate pair. */
function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars);
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1]!)) end -= 1;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** `input` with every control character, escape sequence introducer and bidi control shown as `\xNN`/`\uNNNN`. */
export function terminalSafe(input: string | Uint8Array, options: TerminalSafeOptions = {}): string {
  const text = decodeUntrusted(input);
  // Cut before escaping so that the bound holds for the input and an escape is never cut in half.
  const bounded = options.maxChars === undefined ? text : truncate(text, options.maxChars);
  // A serial console ends its lines with CR LF; a lone CR, which returns to the line start to overwrite it, is escaped.
  if (options.multiline) return bounded.replace(/\r\n/g, "\n").replace(UNSAFE_EXCEPT_LAYOUT, escapeCharacter);
  return bounded.replace(UNSAFE, escapeCharacter);
}

const MARKUP: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * For a notification body: terminal-safe, and `&`, `<` and `>` as entities, the three characters the
 * freedesktop body markup gives a meaning to, so no tag, link or image applies.
 */
export function markupSafe(input: string | Uint8Array, options: TerminalSafeOptions = {}): string {
  return terminalSafe(input, { multiline: true, ...options }).replace(/[&<>]/g, (character) => MARKUP[character]!);
}

export interface DescribeOptions {
  maxDepth?: number;
  maxItems?: number;
  maxChars?: number;
}

/**
 * A one-line, bounded, terminal-safe rendering of a parsed value for a log line. Unlike JSON.stringify it cannot
 * overflow the stack on a deeply nested value nor grow with a huge one: depth, items per level, string lengths
 * and the total are bounded.
 */
export function describeUntrusted(value: unknown, options: DescribeOptions = {}): string {
  const { maxDepth = 4, maxItems = 8, maxChars = 200 } = options;
  const out: string[] = [];
  let length = 0;
  const emit = (part: string) => {
    out.push(part);
    length += part.length;
  };
  const visit = (current: unknown, depth: number): void => {
    if (length > maxChars) return;
    if (current === null || typeof current === "number" || typeof current === "boolean") {
      emit(String(current));
      return;
    }
    if (typeof current === "string") {
      emit(JSON.stringify(truncate(current, maxChars)));
      return;
    }
    if (typeof current !== "object") {
      emit(typeof current);
      return;
    }
    const isArray = Array.isArray(current);
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (depth >= maxDepth) {
      emit(`${open}…${close}`);
      return;
    }
    const keys = isArray ? undefined : Object.keys(current);
    const entries: [string | undefined, unknown][] = keys
      ? keys.slice(0, maxItems).map((key) => [key, (current as Record<string, unknown>)[key]])
      : (current as unknown[]).slice(0, maxItems).map((item) => [undefined, item]);
    const total = keys ? keys.length : (current as unknown[]).length;
    emit(open);
    entries.forEach(([key, item], index) => {
      if (index > 0) emit(",");
      if (key !== undefined) emit(`${JSON.stringify(truncate(key, maxChars))}:`);
      visit(item, depth + 1);
    });
    if (total > entries.length) emit(`,… ${total - entries.length} more`);
    emit(close);
  };
  visit(value, 0);
  return terminalSafe(out.join(""), { maxChars });
}
