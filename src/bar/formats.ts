import type { BarFormat, BarFormatName } from "./bar-format.js";
import { i3barFormat } from "./i3bar-format.js";
import { i3blocksFormat } from "./i3blocks-format.js";
import { waybarFormat } from "./waybar-format.js";

const FORMATS: Record<BarFormatName, (network: string | undefined) => BarFormat> = {
  i3bar: i3barFormat,
  waybar: waybarFormat,
  i3blocks: i3blocksFormat,
};

/** The format a bar asked for, showing every network or only `network`. */
export function barFormat(name: BarFormatName, network: string | undefined): BarFormat {
  return FORMATS[name](network);
}
