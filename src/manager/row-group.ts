import type { ManagerGi } from "./gi.js";

// An Adw.PreferencesGroup whose rows are a list that changes as a whole (generations, shares): it is rebuilt only
// when what it shows changed, so that the rows (and the focus in them) stay put through unrelated updates.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class RowGroup<Item> {
  readonly widget: any;
  private rows: any[] = [];
  private shown: string | undefined;

  constructor(
    private readonly gi: ManagerGi,
    title: string,
    /** What the group says when the list is empty ("none"). */
    private readonly placeholder: string,
    private readonly makeRow: (item: Item) => any,
  ) {
    this.widget = new gi.Adw.PreferencesGroup({ title });
  }

  show(items: readonly Item[]): void {
    const key = JSON.stringify(items);
    if (key === this.shown) return;
    this.shown = key;
    for (const row of this.rows) this.widget.remove(row);
    this.rows = items.length > 0 ? items.map((item) => this.makeRow(item)) : [textRow(this.gi, this.placeholder)];
    for (const row of this.rows) this.widget.add(row);
  }
}

/** A row with a title and a subtitle, neither read as markup (they may hold what a guest wrote). */
export function textRow(gi: ManagerGi, title: string, subtitle = ""): any {
  return new gi.Adw.ActionRow({ useMarkup: false, title, subtitle });
}

export function setSubtitle(row: any, subtitle: string): void {
  if (row.getSubtitle() !== subtitle) row.setSubtitle(subtitle);
}
