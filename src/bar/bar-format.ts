import type { BarState } from "./model.js";

// What every output format offers the bar's runner: what to write once at the start, how a state becomes one
// status, how a status is framed as a line of the protocol, and whether clicks arrive on stdin.

export interface BarFormat {
  /** Written once, before the first status line ("" when the protocol has no header). */
  readonly preamble: string;
  /**
   * One status, without framing. Equal states give equal strings, so the runner can skip writing a status
   * that did not change.
   */
  render(state: BarState): string;
  /** The status as the protocol's line, including its newline. `first` is true for the first status written. */
  frame(status: string, first: boolean): string;
  /** i3bar/swaybar and i3blocks ≥ 1.5 write click events to the module's stdin; waybar runs on-click commands. */
  readonly clicksOnStdin: boolean;
}

export const BAR_FORMAT_NAMES = ["i3bar", "waybar", "i3blocks"] as const;
export type BarFormatName = (typeof BAR_FORMAT_NAMES)[number];

export function plainLine(status: string): string {
  return `${status}\n`;
}
