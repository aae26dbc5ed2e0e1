// Text and colours from clan-sessiond on their way into a status bar. Every bar here renders Pango markup
// (swaybar, i3bar with a pango: font, waybar, i3blocks passing "markup" through), so a label is data only after
// escaping, and a colour goes into a markup attribute only after it is checked to be "#rrggbb".
//
// Markup is escaped with numeric character references, also for '"', '\' and "'": i3blocks 1.4's JSON reader
// ends a string at the first \" and copies every other backslash escape verbatim, so a line for it must not
// need any JSON escape. Attribute values use single quotes for the same reason.

// Controls (including newlines, which end a protocol line), lone surrogates (not UTF-8), line and paragraph
// separators, and bidirectional overrides and isolates (which could make a label display as another).
const UNDISPLAYABLE = /[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

const COLOUR = /^#[0-9a-fA-F]{6}$/;

/** Plain text fit for one line of a bar: undisplayable characters become U+FFFD, and long text is cut. */
export function displayText(value: string, maxCodePoints: number): string {
  const codePoints = [...value.replace(UNDISPLAYABLE, "\uFFFD")];
  return codePoints.length <= maxCodePoints ? codePoints.join("") : `${codePoints.slice(0, maxCodePoints - 1).join("")}…`;
}

/** Pango markup that shows `text` literally. */
export function pangoText(text: string): string {
  return text.replace(/[&<>"'\\]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The colour in lowercase when it is "#rrggbb", otherwise undefined: nothing else may reach a markup attribute. */
export function checkedColour(value: string): string | undefined {
  return COLOUR.test(value) ? value.toLowerCase() : undefined;
}

/** Black or white, whichever reads better on `background` (WCAG relative luminance). */
export function textColourOn(background: string): "#000000" | "#ffffff" {
  const channel = (offset: number) => {
    const value = Number.parseInt(background.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // The luminance where black and white text have the same contrast ratio.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}

/** `text` (already markup) on a chip of `background`, or unchanged when there is no valid colour. */
export function chip(markup: string, background: string | undefined): string {
  if (background === undefined) return markup;
  return `<span background='${background}' foreground='${textColourOn(background)}'>${markup}</span>`;
}
