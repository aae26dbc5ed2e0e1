import { plainLine, type BarFormat } from "./bar-format.js";
import { pangoText } from "./markup.js";
import { networkMarkup, selectNetworks, SESSIOND_MISSING_TEXT, type BarState } from "./model.js";

// Waybar's custom module with "return-type": "json": one JSON object per line, replacing the module's content.
// waybar renders "text" and "tooltip" as Pango markup, uses "alt" to pick from format-icons, "class" as CSS
// classes and "percentage" for {percentage} and format-icons ranges. Without --network the module stands for
// every network; with it, for that one (an empty text hides the module while the network is not configured).

export interface WaybarOutput {
  text: string;
  alt: string;
  tooltip: string;
  class: string[];
  percentage?: number;
}

const SESSIOND_MISSING: WaybarOutput = {
  text: pangoText(SESSIOND_MISSING_TEXT),
  alt: "sessiond-missing",
  tooltip: pangoText("clan-sessiond is not running; this module reconnects when it starts"),
  class: ["sessiond-missing", "urgent"],
};

export function waybarOutput(state: BarState, only?: string): WaybarOutput {
  if (state.kind === "sessiond-missing") return SESSIOND_MISSING;
  const views = selectNetworks(state, only);
  if (views.length === 0) return { text: "", alt: "none", tooltip: "", class: ["none"] };
  const percentages = views.flatMap((view) => (view.buildPercent === undefined ? [] : [view.buildPercent]));
  const urgent = views.some((view) => view.urgent);
  const single = views.length === 1 && only !== undefined ? views[0] : undefined;
  return {
    text: views.map((view) => networkMarkup(view, "full")).join("  "),
    // One network: its VM state. All networks: the most pressing condition among them.
    alt: single ? single.vmState : urgent ? "urgent" : percentages.length > 0 ? "building" : "ok",
    tooltip: views.map((view) => pangoText(view.summary)).join("\n"),
    class: [...new Set(views.flatMap((view) => view.classes))],
    ...(percentages.length > 0 ? { percentage: Math.max(...percentages) } : {}),
  };
}

export function waybarFormat(only?: string): BarFormat {
  return { preamble: "", render: (state) => JSON.stringify(waybarOutput(state, only)), frame: plainLine, clicksOnStdin: false };
}
