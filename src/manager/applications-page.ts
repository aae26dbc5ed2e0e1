import type { ConfigsField } from "../shared/network-configs-fields.js";
import { listFromText, valueText, type FieldValue, type FormFieldView } from "./applications-form.js";
import type { ApplicationsModel, ApplicationsView } from "./applications-model.js";
import type { ManagerGi } from "./gi.js";
import { RowGroup, setSubtitle, textRow } from "./row-group.js";

// The selected network's Applications form and Settings, below its detail: one row per field of configs.json's
// entry (a check box for on/off, one radio button per choice, an entry for text, numbers and lists), the changes
// and problems of the draft, **Save and rebuild**, and the network's update policy and the notifications switch.
// The rows are made once per file read and updated in place, so typing keeps the focus.

/* eslint-disable @typescript-eslint/no-explicit-any */
interface FieldWidget {
  update(value: FieldValue | undefined): void;
}

export class ApplicationsPage {
  readonly widget: any;
  private readonly formGroup: any;
  private readonly statusRow: any;
  private fieldRows: any[] = [];
  private readonly fieldWidgets = new Map<string, FieldWidget>();
  private shownForm: string | undefined;
  private readonly problems: RowGroup<string>;
  private readonly changes: RowGroup<string>;
  private readonly saveButton: any;
  private readonly outcomeRow: any;
  private readonly checkUpdates: any;
  private readonly autoRebuild: any;
  private readonly notifications: any;
  private readonly settingsProblem: any;
  /** Set while the page copies the model into the widgets: their signals are then not the user's. */
  private updating = false;

  constructor(
    private readonly gi: ManagerGi,
    private readonly model: ApplicationsModel,
  ) {
    const { Adw, Gtk } = gi;
    this.widget = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 24, marginBottom: 24, marginStart: 12, marginEnd: 12 });
    this.formGroup = new Adw.PreferencesGroup({ title: "Applications", description: "configs.json: what the network's VM runs" });
    this.statusRow = textRow(gi, "configs.json");
    this.formGroup.add(this.statusRow);
    this.problems = new RowGroup<string>(gi, "Problems", "none", (problem) => textRow(gi, "Problem", problem));
    this.changes = new RowGroup<string>(gi, "Changes to save", "no changes", (line) => textRow(gi, line));
    this.saveButton = new Gtk.Button({ label: "Save and rebuild", halign: Gtk.Align.END, sensitive: false });
    this.saveButton.addCssClass("suggested-action");
    this.saveButton.on("clicked", () => void model.saveAndRebuild());
    this.outcomeRow = textRow(gi, "Last save");

    const settings = new Adw.PreferencesGroup({ title: "Settings" });
    this.checkUpdates = this.settingsCheck(settings, "Check for updates automatically", () => this.policyChanged());
    this.autoRebuild = this.settingsCheck(settings, "Rebuild when an update is found", () => this.policyChanged());
    this.notifications = this.settingsCheck(settings, "Notifications (all networks)", () => {
      void model.setNotifications(this.notifications.getActive());
    });
    this.settingsProblem = textRow(gi, "Refused");
    settings.add(this.settingsProblem);

    const saveGroup = new Adw.PreferencesGroup();
    saveGroup.add(this.outcomeRow);
    for (const child of [this.formGroup, this.problems.widget, this.changes.widget, this.saveButton, saveGroup, settings]) this.widget.append(child);
  }

  show(view: ApplicationsView): void {
    this.updating = true;
    try {
      this.showForm(view);
      this.showSettings(view);
    } finally {
      this.updating = false;
    }
  }

  private showForm(view: ApplicationsView): void {
    const form = view.form;
    const editable = form?.kind === "form";
    this.statusRow.setVisible(!editable);
    if (!form) setSubtitle(this.statusRow, "reading…");
    else if (form.kind === "read-only") setSubtitle(this.statusRow, `not editable here: ${form.reason}`);
    else if (form.kind === "unusable") setSubtitle(this.statusRow, form.problem);
    const fields = form?.kind === "form" || form?.kind === "read-only" ? form.fields : [];
    const key = fields.length > 0 ? `${view.network}\u0000${form?.kind}\u0000${fields.map((field) => field.key).join(",")}` : undefined;
    if (key !== this.shownForm) {
      this.shownForm = key;
      for (const row of this.fieldRows) this.formGroup.remove(row);
      this.fieldRows = [];
      this.fieldWidgets.clear();
      for (const field of fields) this.addField(field, editable);
    }
    for (const field of fields) this.fieldWidgets.get(field.key)?.update(field.value);
    this.problems.widget.setVisible(editable && form.problems.length > 0);
    this.changes.widget.setVisible(editable);
    this.saveButton.setVisible(editable);
    if (editable) {
      this.problems.show(form.problems);
      this.changes.show(form.diff);
      this.saveButton.setSensitive(form.changed && form.problems.length === 0 && !view.saving);
    }
    this.outcomeRow.setVisible(view.outcome !== "" || view.saving);
    setSubtitle(this.outcomeRow, view.saving ? "saving…" : view.outcome);
  }

  private showSettings(view: ApplicationsView): void {
    this.checkUpdates.setSensitive(view.policy !== undefined);
    this.autoRebuild.setSensitive(view.policy !== undefined);
    if (view.policy && this.checkUpdates.getActive() !== view.policy.check) this.checkUpdates.setActive(view.policy.check);
    if (view.policy && this.autoRebuild.getActive() !== view.policy.rebuild) this.autoRebuild.setActive(view.policy.rebuild);
    this.notifications.setSensitive(view.notifications !== undefined);
    if (view.notifications !== undefined && this.notifications.getActive() !== view.notifications) this.notifications.setActive(view.notifications);
    this.settingsProblem.setVisible(view.settingsProblem !== "");
    setSubtitle(this.settingsProblem, view.settingsProblem);
  }

  private policyChanged(): void {
    void this.model.setPolicy({ check: this.checkUpdates.getActive(), rebuild: this.autoRebuild.getActive() });
  }

  private settingsCheck(group: any, label: string, toggled: () => void): any {
    const check = new this.gi.Gtk.CheckButton({ label, sensitive: false });
    check.on("toggled", () => {
      if (!this.updating) toggled();
    });
    group.add(check);
    return check;
  }

  private addField({ key, field }: FormFieldView, editable: boolean): void {
    const { Adw, Gtk } = this.gi;
    const row = new Adw.ActionRow({ useMarkup: false, title: field.title, subtitle: editable ? hint(field) : field.description });
    const set = (value: FieldValue) => {
      if (!this.updating) this.model.set(key, value);
    };
    if (!editable) {
      const label = new Gtk.Label({ useMarkup: false, selectable: true, wrap: true, xalign: 1, valign: Gtk.Align.CENTER, widthChars: 12, maxWidthChars: 40 });
      row.addSuffix(label);
      this.fieldWidgets.set(key, { update: (value) => label.setText(valueText(value)) });
    } else if (field.kind === "boolean") {
      const check = new Gtk.CheckButton({ valign: Gtk.Align.CENTER });
      check.on("toggled", () => set(check.getActive()));
      row.addSuffix(check);
      row.setActivatableWidget(check);
      this.fieldWidgets.set(key, { update: (value) => value !== check.getActive() && check.setActive(value === true) });
    } else if (field.kind === "choice") {
      const box = new Gtk.Box({ spacing: 6, valign: Gtk.Align.CENTER });
      let group: any;
      const buttons = (field.choices ?? []).map((choice) => {
        const button = new Gtk.CheckButton({ label: choice });
        if (group) button.setGroup(group);
        group ??= button;
        button.on("toggled", () => button.getActive() && set(choice));
        box.append(button);
        return { choice, button };
      });
      row.addSuffix(box);
      this.fieldWidgets.set(key, {
        update: (value) => {
          const chosen = buttons.find(({ choice }) => choice === value);
          if (chosen && !chosen.button.getActive()) chosen.button.setActive(true);
        },
      });
    } else {
      const entry = new Gtk.Entry({ valign: Gtk.Align.CENTER, widthChars: 24 });
      entry.setTooltipText(field.title);
      entry.on("changed", () => set(entryValue(field, entry.getText())));
      row.addSuffix(entry);
      this.fieldWidgets.set(key, {
        update: (value) => {
          const text = value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
          if (JSON.stringify(entryValue(field, entry.getText())) !== JSON.stringify(value ?? "")) entry.setText(text);
        },
      });
    }
    this.formGroup.add(row);
    this.fieldRows.push(row);
  }
}

/** What an entry's text means for its field: a number stays text when it is none, so the problem is shown. */
function entryValue(field: ConfigsField, text: string): FieldValue {
  if (field.kind === "text-list") return listFromText(text);
  if (field.kind === "integer" && /^-?[0-9]+$/.test(text.trim())) return Number(text.trim());
  return text;
}

function hint(field: ConfigsField): string {
  const parts = [field.description];
  if (field.kind === "text-list") parts.push("several, separated by commas");
  if (field.minimum !== undefined && field.maximum !== undefined) parts.push(`${field.minimum}–${field.maximum}`);
  return parts.filter((part) => part !== "").join("; ");
}
