import { assertPlainText, quoteArgument, UnsafeCommandArgumentError, type WmDialect } from "./command-syntax.js";

// How a shell command and a name are written into a sway or i3 *config file*, which both read with rules of
// their own on top of command-syntax.ts (measured on sway 1.7 and i3 4.22, test/sway/config-snippet.e2e.test.ts):
//
// - Both replace $name with a config variable everywhere in a line, quoted or not (i3 only for variables that
//   are set, but which ones the user's config sets is unknown here): a '$' cannot appear at all.
// - sway hands `exec`'s arguments to `sh -c` exactly as written, quotes included; i3 removes one level of
//   double quotes first (and unescapes \" and \\ inside them), and without quotes stops at ';' or ','.
// - `status_command` is unquoted by both (sway strips the quotes of a word that starts with one).
// - Both unescape while reading the file, before a binding's command is stored: sway every backslash, as a C
//   escape ("\b" becomes a backspace); i3 only a backslash before '"'. A binding's command, written for run
//   time, is escaped once more for that (bindingCommand).
// So a command is first written as shell words — plain, or in single quotes — and then, per dialect, as the
// argument of exec or status_command. A word that would need a quote, a backslash or a '$' is refused.

/** Characters a shell word may contain unquoted that neither sh, sway nor i3 treats specially. */
const PLAIN_WORD = /^[A-Za-z0-9_\/.:=@%+-]+$/;
const NOT_SINGLE_QUOTABLE = /['"\\$]/;

/** One shell word, plain or single-quoted; throws for what cannot be quoted the same way for sh, sway and i3. */
export function shellWord(word: string): string {
  assertPlainText(word);
  if (PLAIN_WORD.test(word)) return word;
  if (NOT_SINGLE_QUOTABLE.test(word)) {
    throw new UnsafeCommandArgumentError("both-quote-kinds", word, "a word in a config file's command may not contain quotes, backslashes or '$'");
  }
  return `'${word}'`;
}

export function shellCommand(words: readonly string[]): string {
  if (words.length === 0) throw new UnsafeCommandArgumentError("empty", "", "a command needs at least one word");
  return words.map(shellWord).join(" ");
}

/** An argument quoted for the dialect (quoteArgument), refusing '$', which a config file would expand. */
export function configArgument(value: string, dialect: WmDialect): string {
  if (value.includes("$")) throw new UnsafeCommandArgumentError("dollar-sign", value, "a config file would expand '$' as a variable");
  return quoteArgument(value, dialect);
}

/** A command as the line of a `bindsym` must carry it so that the window manager stores exactly `command`. */
export function bindingCommand(command: string, dialect: WmDialect): string {
  return dialect === "sway" ? command.replace(/\\/g, "\\\\") : command.replace(/\\"/g, '\\\\"');
}

/** `exec <command>` for a binding. */
export function execCommand(words: readonly string[], dialect: WmDialect): string {
  const command = shellCommand(words);
  return `exec ${dialect === "sway" ? command : configArgument(command, dialect)}`;
}

/** The argument of a bar's `status_command`. */
export function statusCommand(words: readonly string[], dialect: WmDialect): string {
  return configArgument(shellCommand(words), dialect);
}

/**
 * Text for a `#` comment: on one line whatever it contains (config values cannot hold newlines, but text from
 * elsewhere might), with controls and invisible reordering characters shown as escapes.
 */
export function commentText(value: string): string {
  return JSON.stringify(value).replace(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu, (character) => `\\u${character.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}
