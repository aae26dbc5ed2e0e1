import { EventEmitter } from "node:events";
import { errorMessage } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { ManagerGi } from "./gi.js";
import { setSubtitle, textRow } from "./row-group.js";

// The New network page: a name, a label, a colour and a workspace, and **Create network**, which has clan-sessiond
// make the network's flake from nix/templates/network and register it (CreateNetwork). clan-sessiond checks every
// field and names the one that is wrong; the page shows that, or where the flake was made.

export interface NewNetworkSession {
  createNetwork(request: { name: string; label: string; colour: string; workspace: string }): Promise<string>;
}

export interface NewNetworkFields {
  name: string;
  label: string;
  colour: string;
  workspace: string;
}

export class NewNetworkModel extends EventEmitter<{ changed: [] }> {
  private outcome = "";
  private creating = false;

  constructor(private readonly session: () => NewNetworkSession | undefined) {
    super();
  }

  view(): { outcome: string; creating: boolean } {
    return { outcome: this.outcome, creating: this.creating };
  }

  async create(fields: NewNetworkFields): Promise<void> {
    const session = this.session();
    if (!session || this.creating) return;
    this.creating = true;
    this.emit("changed");
    try {
      const directory = await session.createNetwork(fields);
      this.outcome = `Created ${fields.name}: its flake is ${directory}; choose it in the list to edit its applications`;
    } catch (error) {
      this.outcome = `Not created: ${errorMessage(error)}`;
    } finally {
      this.creating = false;
    }
    this.outcome = terminalSafe(this.outcome, { maxChars: 400 });
    this.emit("changed");
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export class NewNetworkPage {
  readonly widget: any;
  private readonly outcomeRow: any;
  private readonly createButton: any;

  constructor(gi: ManagerGi, model: NewNetworkModel) {
    const { Adw, Gtk } = gi;
    this.widget = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 24, marginTop: 24, marginBottom: 24, marginStart: 12, marginEnd: 12 });
    const group = new Adw.PreferencesGroup({
      title: "New network",
      description: "A network of your own, from clan-desktop's template. Nothing is built until you rebuild it.",
    });
    const entry = (title: string, placeholder: string) => {
      const row = new Adw.ActionRow({ useMarkup: false, title });
      const field = new Gtk.Entry({ valign: Gtk.Align.CENTER, widthChars: 24, placeholderText: placeholder });
      field.setTooltipText(title);
      row.addSuffix(field);
      group.add(row);
      return field;
    };
    const name = entry("Name", "garden (lowercase, digits, -)");
    const label = entry("Label", "Garden club");
    const colour = entry("Colour", "#98c379");
    const workspace = entry("Workspace", "5:garden");
    this.createButton = new Gtk.Button({ label: "Create network", halign: Gtk.Align.END });
    this.createButton.addCssClass("suggested-action");
    this.createButton.on("clicked", () =>
      void model.create({ name: name.getText().trim(), label: label.getText().trim(), colour: colour.getText().trim(), workspace: workspace.getText().trim() }),
    );
    const outcomeGroup = new Adw.PreferencesGroup();
    this.outcomeRow = textRow(gi, "Outcome");
    outcomeGroup.add(this.outcomeRow);
    for (const child of [group, this.createButton, outcomeGroup]) this.widget.append(child);
  }

  show(view: { outcome: string; creating: boolean }): void {
    this.createButton.setSensitive(!view.creating);
    this.outcomeRow.setVisible(view.outcome !== "" || view.creating);
    setSubtitle(this.outcomeRow, view.creating ? "creating…" : view.outcome);
  }
}
