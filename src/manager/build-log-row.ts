import type { ManagerGi } from "./gi.js";

// "Build log" under Updates: an expander with the tail of the network's last build log, which opens by itself
// when a rebuild starts and follows the log's end while it grows. The text comes terminal-safe from the
// presentation and is set as plain text (a label without markup), so what a build prints cannot format it.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class BuildLogRow {
  readonly widget: any;
  private readonly label: any;
  private readonly scroller: any;
  private wasBuilding = false;

  constructor(gi: ManagerGi) {
    const { Adw, Gtk } = gi;
    this.widget = new Adw.ExpanderRow({ title: "Build log" });
    this.label = new Gtk.Label({ useMarkup: false, wrap: true, wrapMode: gi.Pango.WrapMode.WORD_CHAR, xalign: 0, yalign: 0, selectable: false });
    this.label.addCssClass("monospace");
    this.label.setMarginStart(12);
    this.label.setMarginEnd(12);
    this.scroller = new Gtk.ScrolledWindow({ child: this.label, minContentHeight: 120, maxContentHeight: 320, propagateNaturalHeight: true });
    this.widget.addRow(this.scroller);
    // Once GTK laid out a longer log, the adjustment grows: the end of the log is what is in view.
    const adjustment = this.scroller.getVadjustment();
    adjustment.on("changed", () => adjustment.setValue(adjustment.getUpper() - adjustment.getPageSize()));
  }

  show(log: string, building: boolean): void {
    this.widget.setVisible(log !== "" || building);
    this.widget.setSubtitle(building ? "the rebuild is running" : "the last build");
    if (building && !this.wasBuilding) this.widget.setExpanded(true);
    this.wasBuilding = building;
    if (this.label.getLabel() !== log) this.label.setLabel(log);
  }
}
