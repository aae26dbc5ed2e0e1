import { ColourSwatch } from "./colour-swatch.js";
import type { ManagerGi } from "./gi.js";
import type { NetworkRow } from "./network-presentation.js";

// The left pane: one row per network with its colour, title, VM state and warnings. Rows are updated in place
// while the set of networks stays the same, so that keyboard focus and selection survive every NetworkChanged.

/* eslint-disable @typescript-eslint/no-explicit-any */
interface RowWidgets {
  name: string;
  row: any;
  swatch: ColourSwatch;
  warnings: any;
}

export class NetworksList {
  readonly widget: any;
  private rows: RowWidgets[] = [];
  /** Set while the list itself changes the selection, which is not the user choosing a network. */
  private updating = false;

  constructor(
    private readonly gi: ManagerGi,
    onSelect: (name: string | undefined) => void,
  ) {
    const { Gtk } = gi;
    this.widget = new Gtk.ListBox({ selectionMode: Gtk.SelectionMode.SINGLE });
    this.widget.addCssClass("navigation-sidebar");
    this.widget.on("row-selected", (row: any) => {
      if (this.updating) return;
      onSelect(this.rows.find((entry) => entry.row === row)?.name);
    });
  }

  show(rows: readonly NetworkRow[], selected: string | undefined): void {
    this.updating = true;
    try {
      const sameNetworks = rows.length === this.rows.length && rows.every((row, index) => this.rows[index]?.name === row.name);
      if (!sameNetworks) this.rebuild(rows);
      rows.forEach((row, index) => this.fill(this.rows[index]!, row));
      const chosen = this.rows.find((entry) => entry.name === selected)?.row ?? null;
      if (this.widget.getSelectedRow() !== chosen) this.widget.selectRow(chosen);
    } finally {
      this.updating = false;
    }
  }

  private rebuild(rows: readonly NetworkRow[]): void {
    const { Adw, Gtk } = this.gi;
    for (const entry of this.rows) this.widget.remove(entry.row);
    this.rows = rows.map((row) => {
      const actionRow = new Adw.ActionRow({ useMarkup: false, activatable: true });
      const swatch = new ColourSwatch(this.gi);
      actionRow.addPrefix(swatch.widget);
      const warnings = new Gtk.Label({ useMarkup: false, wrap: true, xalign: 1 });
      warnings.addCssClass("warning");
      warnings.addCssClass("caption");
      actionRow.addSuffix(warnings);
      this.widget.append(actionRow);
      return { name: row.name, row: actionRow, swatch, warnings };
    });
  }

  private fill(entry: RowWidgets, row: NetworkRow): void {
    if (entry.row.getTitle() !== row.title) entry.row.setTitle(row.title);
    if (entry.row.getSubtitle() !== row.state) entry.row.setSubtitle(row.state);
    entry.swatch.show(row.colour);
    const warnings = row.warnings.map((warning) => warning.text).join("\n");
    entry.warnings.setLabel(warnings);
    entry.warnings.setVisible(warnings !== "");
  }
}
