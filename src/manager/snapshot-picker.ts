import type { ManagerGi } from "./gi.js";
import type { SnapshotRow } from "./network-presentation.js";
import { RowGroup, textRow } from "./row-group.js";

// The network's backup snapshots, newest first, each with "Restore this". A restore replaces the VM's state disk,
// so "Restore this" only asks: the row then says what a restore does and offers "Cancel" and "Restore", and only
// "Restore" starts it. The question stays in the window (not a dialog of its own), where a screen reader finds it.

/* eslint-disable @typescript-eslint/no-explicit-any */
type PickerItem = { kind: "note"; text: string } | { kind: "snapshot"; snapshot: SnapshotRow; asking: boolean; othersAsked: boolean };

export class SnapshotPicker {
  private readonly group: RowGroup<PickerItem>;
  /** Each snapshot row's first button, where the keyboard focus goes when the row is rebuilt (asking or not). */
  private readonly firstButtons = new WeakMap<object, any>();
  private shown: { network: string; snapshots: readonly SnapshotRow[]; note: string } | undefined;
  /** The snapshot whose restore the user is asked to confirm. */
  private asking: { network: string; id: string } | undefined;

  constructor(
    private readonly gi: ManagerGi,
    private readonly restore: (network: string, snapshot: string) => void,
  ) {
    this.group = new RowGroup<PickerItem>(gi, "Snapshots", "no snapshots yet", (item) => (item.kind === "note" ? textRow(gi, item.text) : this.snapshotRow(item)), {
      key: (item) => (item.kind === "snapshot" ? item.snapshot.id : ""),
      target: (row) => this.firstButtons.get(row),
    });
  }

  get widget(): any {
    return this.group.widget;
  }

  /** `note` ("reading the snapshots", an error) stands in for the list while it is not "". */
  show(network: string, snapshots: readonly SnapshotRow[], note: string): void {
    this.shown = { network, snapshots, note };
    const asked = this.asking?.network === network ? snapshots.find((snapshot) => snapshot.id === this.asking?.id && snapshot.canRestore) : undefined;
    if (!asked) this.asking = undefined;
    this.group.show(
      note
        ? [{ kind: "note", text: note }]
        : snapshots.map((snapshot) => ({ kind: "snapshot", snapshot, asking: snapshot === asked, othersAsked: asked !== undefined && snapshot !== asked })),
    );
  }

  private snapshotRow({ snapshot, asking, othersAsked }: Extract<PickerItem, { kind: "snapshot" }>): any {
    const subtitle = asking
      ? `${snapshot.subtitle}. Restore it? The VM stops, its state disk is replaced by this snapshot's (the current one is kept as state.qcow2.previous), and it starts again.`
      : snapshot.subtitle;
    const row = textRow(this.gi, snapshot.title, subtitle);
    if (!asking) {
      const restoreThis = this.button("Restore this", snapshot.canRestore && !othersAsked, () => this.ask(snapshot.id));
      row.addSuffix(restoreThis);
      this.firstButtons.set(row, restoreThis);
      return row;
    }
    // The question's first button is the harmless one: a keyboard user who pressed "Restore this" lands on Cancel.
    const cancel = this.button("Cancel", true, () => this.ask(undefined));
    row.addSuffix(cancel);
    this.firstButtons.set(row, cancel);
    const restore = this.button("Restore", true, () => {
      const network = this.shown?.network;
      this.ask(undefined);
      if (network !== undefined) this.restore(network, snapshot.id);
    });
    restore.addCssClass("destructive-action");
    row.addSuffix(restore);
    return row;
  }

  private ask(id: string | undefined): void {
    const shown = this.shown;
    if (!shown) return;
    this.asking = id === undefined ? undefined : { network: shown.network, id };
    // Redrawn after GTK finished with the clicked button, which the redraw removes.
    this.gi.GLib.idleAdd(this.gi.GLib.PRIORITY_DEFAULT_IDLE, () => {
      if (this.shown === shown) this.show(shown.network, shown.snapshots, shown.note);
      return false;
    });
  }

  private button(label: string, sensitive: boolean, onClick: () => void): any {
    const { Gtk } = this.gi;
    const button = new Gtk.Button({ label, valign: Gtk.Align.CENTER, sensitive });
    button.on("clicked", onClick);
    return button;
  }
}
