import type { ManagerGi } from "./gi.js";
import type { JoinModel, JoinView } from "./join-job.js";
import type { LinkFactRow } from "./join-presentation.js";
import { RowGroup, setSubtitle, textRow } from "./row-group.js";

// The join page: an entry for a clan:// or nix:// link, what the link alone says (from, source, revision, machine,
// repairs, warnings) or why it is refused, and "Fetch and join", the only thing that fetches: it runs the join as a
// job whose output and outcome the page shows.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class JoinPage {
  readonly widget: any;
  private readonly entry: any;
  private readonly refusedRow: any;
  private readonly facts: RowGroup<LinkFactRow>;
  private readonly warnings: RowGroup<string>;
  private readonly confirmButton: any;
  private readonly jobGroup: any;
  private readonly jobRow: any;
  private readonly progress: any;
  private readonly output: any;

  constructor(gi: ManagerGi, model: JoinModel) {
    const { Adw, Gtk } = gi;
    this.widget = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 24, marginTop: 24, marginBottom: 24, marginStart: 12, marginEnd: 12 });

    const linkGroup = new Adw.PreferencesGroup({
      title: "Join a network",
      description: "Paste a clan:// or nix:// link. Nothing is fetched until you press Fetch and join.",
    });
    this.entry = new Gtk.Entry({ placeholderText: "clan://git+https://… or nix://https-…", hexpand: true });
    this.entry.setTooltipText("Join link");
    this.entry.on("changed", () => model.setText(this.entry.getText()));
    linkGroup.add(this.entry);
    this.refusedRow = textRow(gi, "Refused");
    linkGroup.add(this.refusedRow);

    this.facts = new RowGroup<LinkFactRow>(gi, "What the link says", "nothing yet", (fact) => textRow(gi, fact.title, fact.text));
    this.warnings = new RowGroup<string>(gi, "Warnings", "none", (warning) => textRow(gi, "Warning", warning));

    this.confirmButton = new Gtk.Button({ label: "Fetch and join", halign: Gtk.Align.END, sensitive: false });
    this.confirmButton.addCssClass("suggested-action");
    this.confirmButton.on("clicked", () => model.confirm());

    this.jobGroup = new Adw.PreferencesGroup({ title: "Joining" });
    this.jobRow = textRow(gi, "Join");
    this.progress = new Gtk.ProgressBar({ valign: Gtk.Align.CENTER, widthRequest: 120 });
    this.jobRow.addSuffix(this.progress);
    this.jobGroup.add(this.jobRow);
    this.output = new Gtk.Label({ useMarkup: false, wrap: true, wrapMode: gi.Pango.WrapMode.WORD_CHAR, xalign: 0, selectable: false });
    this.output.addCssClass("monospace");
    this.jobGroup.add(this.output);

    for (const child of [linkGroup, this.facts.widget, this.warnings.widget, this.confirmButton, this.jobGroup]) this.widget.append(child);
  }

  show(view: JoinView): void {
    const { preview, job } = view;
    this.refusedRow.setVisible(preview.kind === "refused");
    if (preview.kind === "refused") setSubtitle(this.refusedRow, preview.reason);
    this.facts.widget.setVisible(preview.kind === "ready");
    this.warnings.widget.setVisible(preview.kind === "ready");
    if (preview.kind === "ready") {
      this.facts.show(preview.facts);
      this.warnings.show(preview.warnings);
    }
    this.confirmButton.setSensitive(view.canConfirm);

    this.jobGroup.setVisible(job.kind !== "idle");
    if (job.kind === "idle") return;
    this.jobRow.setTitle(job.kind === "running" ? "Joining" : job.kind === "done" ? "Joined" : "Join failed");
    setSubtitle(this.jobRow, job.kind === "running" ? (job.lines.at(-1) ?? "starting clanctl join") : job.outcome);
    this.progress.setVisible(job.kind === "running");
    if (job.kind === "running") this.progress.pulse();
    const text = job.lines.join("\n");
    if (this.output.getLabel() !== text) this.output.setLabel(text);
  }
}
