import type { ManagerGi } from "./gi.js";
import type { SnapshotRow } from "./network-presentation.js";
import { RowGroup, textRow } from "./row-group.js";

// The network's backup snapshots, newest first, each with "Restore this". A restore replaces the VM's state disk,
// so it is asked for once more in a dialog that names the network and the snapshot; only its "Restore" starts it.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class SnapshotPicker {
  private readonly group: RowGroup<SnapshotRow | string>;
  private dialog: any;

  constructor(
    private readonly gi: ManagerGi,
    private readonly network: () => { name: string; title: string } | undefined,
    private readonly restore: (name: string, snapshot: string) => void,
  ) {
    this.group = new RowGroup<SnapshotRow | string>(gi, "Snapshots", "no snapshots yet", (item) =>
      typeof item === "string" ? textRow(gi, item) : this.snapshotRow(item),
    );
  }

  get widget(): any {
    return this.group.widget;
  }

  /** `note` ("reading the snapshots", an error) stands in for the list while it is not "". */
  show(snapshots: readonly SnapshotRow[], note: string): void {
    this.group.show(note ? [note] : snapshots);
  }

  private snapshotRow(snapshot: SnapshotRow): any {
    const { Gtk } = this.gi;
    const row = textRow(this.gi, snapshot.title, snapshot.subtitle);
    const button = new Gtk.Button({ label: "Restore this", valign: Gtk.Align.CENTER });
    button.setSensitive(snapshot.canRestore);
    button.on("clicked", () => this.confirm(snapshot));
    row.addSuffix(button);
    return row;
  }

  private confirm(snapshot: SnapshotRow): void {
    const network = this.network();
    if (!network) return;
    const { Adw } = this.gi;
    this.dialog?.close();
    const dialog = new Adw.MessageDialog({
      transientFor: this.group.widget.getRoot(),
      modal: true,
      heading: `Restore ${network.title} from ${snapshot.title.toLowerCase()}?`,
      body: `Taken ${snapshot.subtitle}. The VM stops, its state disk is replaced by the snapshot's (the current one is kept as state.qcow2.previous), and it starts again.`,
    });
    dialog.addResponse("cancel", "Cancel");
    dialog.addResponse("restore", "Restore");
    dialog.setResponseAppearance("restore", Adw.ResponseAppearance.DESTRUCTIVE);
    dialog.setDefaultResponse("cancel");
    dialog.setCloseResponse("cancel");
    dialog.on("response", (response: string) => {
      if (this.dialog === dialog) this.dialog = undefined;
      if (response === "restore") this.restore(network.name, snapshot.id);
    });
    this.dialog = dialog;
    dialog.present();
  }
}
