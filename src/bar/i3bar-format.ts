import type { BarFormat } from "./bar-format.js";
import {
  BLOCK_NAME,
  MANAGER_BLOCK_NAME,
  networkMarkup,
  selectNetworks,
  SESSIOND_MISSING_COLOUR,
  SESSIOND_MISSING_TEXT,
  type BarState,
  type NetworkView,
} from "./model.js";

// The i3bar protocol, which swaybar speaks too (i3bar-protocol(7), swaybar-protocol(7)): a header line, then an
// endless JSON array whose elements are status lines, each an array of blocks. A block per network, named
// "clan-desktop" with the network as "instance", so that a click event says which network was clicked.

export const I3BAR_HEADER = { version: 1, click_events: true } as const;

export interface I3barBlock {
  name: string;
  instance: string;
  full_text: string;
  short_text?: string;
  color?: string;
  urgent?: boolean;
  markup: "pango" | "none";
  separator_block_width?: number;
}

export function i3barBlocks(state: BarState, only?: string): I3barBlock[] {
  if (state.kind === "sessiond-missing") return [sessiondMissingBlock()];
  const networks = selectNetworks(state, only).map(networkBlock);
  // The bar of all networks ends with "Open manager"; a bar of one network (one of several modules) does not.
  return only === undefined ? [...networks, managerBlock()] : networks;
}

/** A small trailing block: bars have no menu, so a click on it is the bar's way to the manager window. */
function managerBlock(): I3barBlock {
  return { name: MANAGER_BLOCK_NAME, instance: "open", full_text: "☰ Manager", short_text: "☰", markup: "none" };
}

function networkBlock(view: NetworkView): I3barBlock {
  return {
    name: BLOCK_NAME,
    instance: view.name,
    full_text: networkMarkup(view, "full"),
    short_text: networkMarkup(view, "short"),
    ...(view.colour === undefined ? {} : { color: view.colour }),
    ...(view.urgent ? { urgent: true } : {}),
    markup: "pango",
    separator_block_width: 12,
  };
}

function sessiondMissingBlock(): I3barBlock {
  return { name: BLOCK_NAME, instance: "clan-sessiond", full_text: SESSIOND_MISSING_TEXT, color: SESSIOND_MISSING_COLOUR, urgent: true, markup: "none" };
}

export function i3barFormat(only?: string): BarFormat {
  return {
    // The array opens on its own line; every status after the first is preceded by a comma.
    preamble: `${JSON.stringify(I3BAR_HEADER)}\n[\n`,
    render: (state) => JSON.stringify(i3barBlocks(state, only)),
    frame: (status, first) => `${first ? "" : ","}${status}\n`,
    clicksOnStdin: true,
  };
}
