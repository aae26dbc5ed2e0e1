import type { ManagerGi } from "./gi.js";
import type { JoinModel, JoinState, JoinView } from "./join-job.js";
import type { LinkFactRow } from "./join-presentation.js";
import { RowGroup, setSubtitle, textRow } from "./row-group.js";

// The join page: an entry for a clan:// or nix:// link, what the link alone says (from, source, revision, machine,
// repairs, warnings) or why it is refused, and "Fetch", the only thing that fetches. Once fetched, the second
// question: what the network asks for (the VM, network mode, shares, forwards, admins, inputs), with "Join and
// build", the only thing that registers and builds, and "Cancel". Each step's output and outcome are shown.

const STEP_TITLES: Record<JoinState["kind"], string> = {
  idle: "",
  fetching: "Fetching",
  fetched: "Fetched",
  building: "Joining",
  cancelled: "Cancelled",
  done: "Joined",
  failed: "Join failed",
};

/* eslint-disable @typescript-eslint/no-explicit-any */
export class JoinPage {
  readonly widget: any;
  private readonly entry: any;
  private readonly refusedRow: any;
  private readonly facts: RowGroup<LinkFactRow>;
  private readonly warnings: RowGroup<string>;
  private readonly fetchButton: any;
  private readonly request: RowGroup<LinkFactRow>;
  private readonly shares: RowGroup<LinkFactRow>;
  private readonly forwards: RowGroup<LinkFactRow>;
  private readonly inputs: RowGroup<LinkFactRow>;
  private readonly secondQuestion: any;
  private readonly buildButton: any;
  private readonly jobGroup: any;
  private readonly jobRow: any;
  private readonly progress: any;
  private readonly output: any;
  /** The link whose facts the page shows, which Fetch fetches. */
  private shownLink: string | undefined;

  constructor(
    private readonly gi: ManagerGi,
    model: JoinModel,
  ) {
    const { Adw, Gtk } = gi;
    this.widget = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 24, marginTop: 24, marginBottom: 24, marginStart: 12, marginEnd: 12 });

    const linkGroup = new Adw.PreferencesGroup({
      title: "Join a network",
      description: "Paste a clan:// or nix:// link. Nothing is fetched until you press Fetch, and nothing is joined until you press Join and build.",
    });
    this.entry = new Gtk.Entry({ placeholderText: "clan://git+https://… or nix://https-…", hexpand: true });
    this.entry.setTooltipText("Join link");
    this.entry.on("changed", () => model.setText(this.entry.getText()));
    linkGroup.add(this.entry);
    this.refusedRow = textRow(gi, "Refused");
    linkGroup.add(this.refusedRow);

    this.facts = new RowGroup<LinkFactRow>(gi, "What the link says", "nothing yet", (fact) => textRow(gi, fact.title, fact.text));
    this.warnings = new RowGroup<string>(gi, "Warnings", "none", (warning) => textRow(gi, "Warning", warning));

    this.fetchButton = new Gtk.Button({ label: "Fetch", halign: Gtk.Align.END, sensitive: false });
    this.fetchButton.addCssClass("suggested-action");
    this.fetchButton.on("clicked", () => {
      if (this.shownLink !== undefined) model.fetch(this.shownLink);
    });

    const factRow = (fact: LinkFactRow) => textRow(gi, fact.title, fact.text);
    this.request = new RowGroup<LinkFactRow>(gi, "What the network asks for", "nothing", factRow);
    this.shares = new RowGroup<LinkFactRow>(gi, "Folders of this computer it asks for", "none", factRow);
    this.forwards = new RowGroup<LinkFactRow>(gi, "Port forwards it asks for", "none", factRow);
    this.inputs = new RowGroup<LinkFactRow>(gi, "Its flake inputs", "none", factRow);

    this.secondQuestion = new Gtk.Box({ orientation: Gtk.Orientation.HORIZONTAL, spacing: 12, halign: Gtk.Align.END });
    const cancel = new Gtk.Button({ label: "Cancel" });
    cancel.on("clicked", () => model.cancel());
    this.buildButton = new Gtk.Button({ label: "Join and build" });
    this.buildButton.addCssClass("suggested-action");
    this.buildButton.on("clicked", () => model.build());
    this.secondQuestion.append(cancel);
    this.secondQuestion.append(this.buildButton);

    this.jobGroup = new Adw.PreferencesGroup({ title: "Joining" });
    this.jobRow = textRow(gi, "Join");
    this.progress = new Gtk.ProgressBar({ valign: Gtk.Align.CENTER, widthRequest: 120 });
    this.jobRow.addSuffix(this.progress);
    this.jobGroup.add(this.jobRow);
    this.output = new Gtk.Label({ useMarkup: false, wrap: true, wrapMode: gi.Pango.WrapMode.WORD_CHAR, xalign: 0, selectable: false });
    this.output.addCssClass("monospace");
    this.jobGroup.add(this.output);

    const children = [linkGroup, this.facts.widget, this.warnings.widget, this.fetchButton, this.request.widget, this.shares.widget, this.forwards.widget, this.inputs.widget, this.secondQuestion, this.jobGroup];
    for (const child of children) this.widget.append(child);
  }

  /** A link handed to the window (clan-manager --join LINK) is put in the entry, as if pasted. */
  setLink(link: string): void {
    if (this.entry.getText() !== link) this.entry.setText(link);
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
    this.shownLink = preview.kind === "ready" ? preview.link : undefined;
    this.fetchButton.setSensitive(view.canFetch);

    const request = job.kind === "fetched" || job.kind === "building" ? job.request : undefined;
    for (const group of [this.request, this.shares, this.forwards, this.inputs]) group.widget.setVisible(request !== undefined);
    if (request) {
      this.request.show([...request.facts, ...request.warnings.map((warning) => ({ title: "Warning", text: warning }))]);
      this.shares.show(request.shares);
      this.forwards.show(request.forwards);
      this.inputs.show(request.inputs);
    }
    const asking = job.kind === "fetched";
    const wasAsking = this.secondQuestion.getVisible();
    this.secondQuestion.setVisible(asking);
    // The question appears below the fold: its answer takes the keyboard focus, once laid out, which also scrolls
    // the page to it.
    if (asking && !wasAsking) {
      this.gi.GLib.idleAdd(this.gi.GLib.PRIORITY_LOW, () => {
        this.buildButton.grabFocus();
        return false;
      });
    }

    this.jobGroup.setVisible(job.kind !== "idle");
    if (job.kind === "idle") return;
    this.jobRow.setTitle(job.kind === "failed" && job.step === "fetch" ? "Fetch failed" : STEP_TITLES[job.kind]);
    setSubtitle(this.jobRow, describeStep(job));
    const running = job.kind === "fetching" || job.kind === "building";
    this.progress.setVisible(running);
    if (running) this.progress.pulse();
    const text = "lines" in job ? job.lines.join("\n") : "";
    if (this.output.getLabel() !== text) this.output.setLabel(text);
  }
}

function describeStep(job: Exclude<JoinState, { kind: "idle" }>): string {
  switch (job.kind) {
    case "fetching":
      return job.lines.at(-1) ?? "starting clanctl join --fetch-only";
    case "fetched":
      return "Fetched; nothing is registered or built until you press Join and build.";
    case "building":
      return job.lines.at(-1) ?? "starting clanctl join --build-fetched";
    case "cancelled":
      return "Nothing was joined.";
    case "done":
    case "failed":
      return job.outcome;
  }
}
