import type { ManagerGi } from "./gi.js";

// An Adw.PreferencesGroup whose rows are a list that changes as a whole (generations, shares): it is rebuilt only
// when what it shows changed, so that the rows (and the focus in them) stay put through unrelated updates.

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Where the keyboard focus goes when a row that held it is rebuilt (its button pressed with the keyboard, an
 * update): the new row of the same item, at the widget `target` names. Without it GTK sends the focus to the top
 * of the window and a keyboard user must Tab all the way back.
 */
export interface RowFocus<Item> {
  key(item: Item): string;
  target(row: any): any;
}

export class RowGroup<Item> {
  readonly widget: any;
  private rows: any[] = [];
  /** The focus keys of `rows`' items, in order. */
  private keys: (string | undefined)[] = [];
  private shown: string | undefined;

  constructor(
    private readonly gi: ManagerGi,
    title: string,
    /** What the group says when the list is empty ("none"). */
    private readonly placeholder: string,
    private readonly makeRow: (item: Item) => any,
    private readonly focus?: RowFocus<Item>,
  ) {
    this.widget = new gi.Adw.PreferencesGroup({ title });
  }

  show(items: readonly Item[]): void {
    const key = JSON.stringify(items);
    if (key === this.shown) return;
    this.shown = key;
    const focusedKey = this.focusedKey();
    for (const row of this.rows) this.widget.remove(row);
    this.rows = items.length > 0 ? items.map((item) => this.makeRow(item)) : [textRow(this.gi, this.placeholder)];
    this.keys = items.length > 0 && this.focus ? items.map((item) => this.focus!.key(item)) : [];
    for (const row of this.rows) this.widget.add(row);
    const index = focusedKey === undefined ? -1 : this.keys.indexOf(focusedKey);
    const target = index >= 0 ? this.focus?.target(this.rows[index]) : undefined;
    if (!target) return;
    // Once GTK has laid out the new rows and moved the focus away from the removed one.
    this.gi.GLib.idleAdd(this.gi.GLib.PRIORITY_LOW, () => {
      if (target.getRoot()) target.grabFocus();
      return false;
    });
  }

  /** The focus key of the row holding the keyboard focus, if one does. */
  private focusedKey(): string | undefined {
    const focused = this.widget.getRoot()?.getFocus();
    if (!focused) return undefined;
    const index = this.rows.findIndex((row) => focused === row || focused.isAncestor(row));
    return index >= 0 ? this.keys[index] : undefined;
  }
}

/** A row with a title and a subtitle, neither read as markup (they may hold what a guest wrote). */
export function textRow(gi: ManagerGi, title: string, subtitle = ""): any {
  return new gi.Adw.ActionRow({ useMarkup: false, title, subtitle });
}

export function setSubtitle(row: any, subtitle: string): void {
  if (row.getSubtitle() !== subtitle) row.setSubtitle(subtitle);
}
