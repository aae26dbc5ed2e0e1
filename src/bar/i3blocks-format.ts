import { plainLine, type BarFormat } from "./bar-format.js";
import { BLOCK_NAME, networkMarkup, selectNetworks, SESSIOND_MISSING_COLOUR, SESSIOND_MISSING_TEXT, type BarState } from "./model.js";

// A block for i3blocks in persist mode (`interval=persist`, `format=json`): one JSON object per line, each line
// replacing the block's properties. Measured on i3blocks 1.4 (Debian 12):
//
// - every value must be a JSON string ("urgent": "true"; a boolean is dropped) and must need no escape: its
//   reader stops a string at the first \" (markup.ts escapes quotes and backslashes as character references);
// - a line is read into 2048 bytes, full_text into 1024 and short_text into 512: text that does not fit falls
//   back to the short form, then to a count, rather than have its markup cut;
// - "name" and "instance" from the line replace the config's, which is how i3blocks ≥ 1.5 addresses the clicks
//   it writes to a persistent block's stdin. i3blocks 1.4 never passes clicks to a running persistent block.

/** Below i3blocks 1.4's buffers, leaving room for the rest of the line. */
const MAX_FULL_TEXT_BYTES = 1000;
const MAX_SHORT_TEXT_BYTES = 500;

export type I3blocksOutput = Record<string, string>;

export function i3blocksOutput(state: BarState, only?: string): I3blocksOutput {
  if (state.kind === "sessiond-missing") {
    return { name: BLOCK_NAME, instance: "clan-sessiond", full_text: SESSIOND_MISSING_TEXT, color: SESSIOND_MISSING_COLOUR, urgent: "true" };
  }
  const views = selectNetworks(state, only);
  const single = only !== undefined ? views[0] : undefined;
  const full = views.map((view) => networkMarkup(view, "full")).join("  ");
  const short = views.map((view) => networkMarkup(view, "short")).join(" ");
  return {
    name: BLOCK_NAME,
    // The combined block stands for every network, so a click on it cannot name one.
    ...(single ? { instance: single.name } : {}),
    full_text: fitted([full, short], MAX_FULL_TEXT_BYTES, views.length),
    short_text: fitted([short], MAX_SHORT_TEXT_BYTES, views.length),
    ...(single?.colour ? { color: single.colour } : {}),
    ...(views.some((view) => view.urgent) ? { urgent: "true" } : {}),
    markup: "pango",
  };
}

/** The first text that fits in `maxBytes`; when none does, a count rather than markup that i3blocks would cut. */
function fitted(texts: string[], maxBytes: number, count: number): string {
  return texts.find((text) => Buffer.byteLength(text) <= maxBytes) ?? `${count} networks: use one block per --network`;
}

export function i3blocksFormat(only?: string): BarFormat {
  return { preamble: "", render: (state) => JSON.stringify(i3blocksOutput(state, only)), frame: plainLine, clicksOnStdin: true };
}
