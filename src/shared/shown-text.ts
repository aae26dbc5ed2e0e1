// Text a network controls (input names and URLs from its flake.lock, names and messages from its configs.json,
// Nix's error output about it) is shown in a terminal and in a notification. Control characters could move the
// cursor or recolour the screen (ANSI escapes), bidi overrides and invisible format characters could make one
// name look like another, and markup could turn a name into a link: all of these are shown as \u{…} escapes.

const UNSHOWN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\\]/gu;

/** `text` with every control, format, private-use, unassigned and line-separator character escaped, cut to `limit`. */
export function shownText(text: string, limit = 200): string {
  const short = [...text].length > limit ? `${[...text].slice(0, limit).join("")}…` : text;
  return short.replace(UNSHOWN, (char) => (char === "\\" ? "\\\\" : `\\u{${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`));
}
