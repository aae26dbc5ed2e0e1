import type { ManagerGi } from "./gi.js";

// A small round swatch in a network's colour. The colour reaching here is always "#rrggbb" (safeColour), so it
// cannot carry other CSS into the style sheet.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class ColourSwatch {
  readonly widget: any;
  private readonly provider: any;
  private colour = "";

  constructor({ Gtk }: ManagerGi) {
    this.widget = new Gtk.Box({ valign: Gtk.Align.CENTER, halign: Gtk.Align.CENTER });
    this.provider = new Gtk.CssProvider();
    this.widget.getStyleContext().addProvider(this.provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  show(colour: string): void {
    if (!/^#[0-9a-fA-F]{6}$/.test(colour) || colour === this.colour) return;
    this.colour = colour;
    const css = `box { background-color: ${colour}; border-radius: 9px; min-width: 18px; min-height: 18px; }`;
    this.provider.loadFromData(css, -1);
  }
}
