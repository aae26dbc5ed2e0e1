import { BuildLogRow } from "./build-log-row.js";
import type { ManagerGi } from "./gi.js";
import type { GenerationRow, NetworkDetail } from "./network-presentation.js";
import { RowGroup, setSubtitle, textRow } from "./row-group.js";
import { SnapshotPicker } from "./snapshot-picker.js";
import { VpnPeersView } from "./vpn-peers-view.js";
import type { VpnSection } from "./vpn-presentation.js";

// The right pane: one network's VM with start/stop/pause and the job in progress, its generations with a
// rollback to each, updates with rebuild and the build log, backups with "back up now" and a restore of any snapshot,
// its VPN peers with block/unblock, and what it may touch on this host.

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface DetailActions {
  vmAction(name: string, action: "start" | "stop" | "pause"): void;
  rollback(name: string, to: number): void;
  rebuild(name: string): void;
  backUp(name: string): void;
  restore(name: string, snapshot: string): void;
  setPeerBlocked(name: string, peer: string, blocked: boolean): void;
}

export class NetworkDetailView {
  readonly widget: any;
  private current: NetworkDetail | undefined;
  private readonly vmRow: any;
  private readonly vmButtons: Record<"start" | "stop" | "pause", any>;
  private readonly jobRow: any;
  private readonly progress: any;
  private readonly noticeRow: any;
  private readonly errorRow: any;
  private readonly generations: RowGroup<GenerationRow>;
  private readonly updateRow: any;
  private readonly rebuildButton: any;
  private readonly buildLog: BuildLogRow;
  private readonly snapshots: SnapshotPicker;
  private readonly backupRows: Record<"state" | "lastSuccess" | "nextDue" | "repository" | "problem", any>;
  private readonly backupButton: any;
  private readonly vpn: VpnPeersView;
  private readonly modeRow: any;
  private readonly shares: RowGroup<string>;
  private readonly forwards: RowGroup<string>;

  constructor(
    private readonly gi: ManagerGi,
    private readonly actions: DetailActions,
  ) {
    const { Adw, Gtk } = gi;
    this.widget = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 24, marginTop: 24, marginBottom: 24, marginStart: 12, marginEnd: 12 });

    const vm = new Adw.PreferencesGroup({ title: "Virtual machine" });
    this.vmRow = textRow(gi, "VM state");
    const vmBox = new Gtk.Box({ spacing: 6, valign: Gtk.Align.CENTER });
    this.vmButtons = {
      start: this.button("Start", () => this.act((name) => actions.vmAction(name, "start"))),
      stop: this.button("Stop", () => this.act((name) => actions.vmAction(name, "stop"))),
      pause: this.button("Pause", () => this.act((name) => actions.vmAction(name, "pause"))),
    };
    for (const button of Object.values(this.vmButtons)) vmBox.append(button);
    this.vmRow.addSuffix(vmBox);
    this.errorRow = textRow(gi, "Last error");
    this.jobRow = textRow(gi, "In progress");
    this.progress = new Gtk.ProgressBar({ valign: Gtk.Align.CENTER, widthRequest: 120 });
    this.jobRow.addSuffix(this.progress);
    this.noticeRow = textRow(gi, "Refused");
    for (const row of [this.vmRow, this.errorRow, this.jobRow, this.noticeRow]) vm.add(row);

    const updates = new Adw.PreferencesGroup({ title: "Updates" });
    this.updateRow = textRow(gi, "Source");
    this.rebuildButton = this.button("Rebuild", () => this.act((name) => actions.rebuild(name)));
    this.updateRow.addSuffix(this.rebuildButton);
    updates.add(this.updateRow);
    this.buildLog = new BuildLogRow(gi);
    updates.add(this.buildLog.widget);

    this.generations = new RowGroup<GenerationRow>(gi, "Generations", "none in a profile (the network boots one fixed directory)", (generation) => this.generationRow(generation));

    const backups = new Adw.PreferencesGroup({ title: "Backups" });
    this.backupRows = {
      state: textRow(gi, "Backup state"),
      lastSuccess: textRow(gi, "Last success"),
      nextDue: textRow(gi, "Next due"),
      repository: textRow(gi, "Repository"),
      problem: textRow(gi, "Problem"),
    };
    this.backupButton = this.button("Back up now", () => this.act((name) => actions.backUp(name)));
    this.backupRows.state.addSuffix(this.backupButton);
    for (const row of Object.values(this.backupRows)) backups.add(row);
    this.snapshots = new SnapshotPicker(gi, (name, snapshot) => actions.restore(name, snapshot));

    this.vpn = new VpnPeersView(gi, (name, peer, blocked) => actions.setPeerBlocked(name, peer, blocked));

    const access = new Adw.PreferencesGroup({ title: "What it may touch" });
    this.modeRow = textRow(gi, "Network mode");
    access.add(this.modeRow);
    this.shares = new RowGroup<string>(gi, "Shared folders", "none", (share) => textRow(gi, share));
    this.forwards = new RowGroup<string>(gi, "Port forwards", "none", (forward) => textRow(gi, forward));

    for (const group of [vm, updates, this.generations.widget, backups, this.snapshots.widget, ...this.vpn.widgets, access, this.shares.widget, this.forwards.widget]) this.widget.append(group);
  }

  show(detail: NetworkDetail, vpn: VpnSection): void {
    this.current = detail;
    setSubtitle(this.vmRow, detail.vm.state);
    this.vmButtons.start.setSensitive(detail.vm.canStart);
    this.vmButtons.stop.setSensitive(detail.vm.canStop);
    this.vmButtons.pause.setSensitive(detail.vm.canPause);
    this.optional(this.errorRow, detail.vm.error);
    this.optional(this.noticeRow, detail.notice);
    this.optional(this.jobRow, detail.job?.text ?? "");
    this.jobRow.setTitle(detail.job?.running === false ? "Last action" : "In progress");
    this.progress.setVisible(detail.job?.running === true);
    if (detail.job?.running) {
      if (detail.job.fraction >= 0) this.progress.setFraction(detail.job.fraction);
      else this.progress.pulse();
    }

    setSubtitle(this.updateRow, detail.update.text);
    this.rebuildButton.setSensitive(detail.update.canRebuild);
    this.buildLog.show(detail.update.log, detail.update.building);
    this.generations.show(detail.generations);

    const { backups } = detail;
    setSubtitle(this.backupRows.state, backups.state);
    setSubtitle(this.backupRows.lastSuccess, backups.lastSuccess);
    setSubtitle(this.backupRows.nextDue, backups.nextDue);
    setSubtitle(this.backupRows.repository, backups.repository);
    this.optional(this.backupRows.problem, backups.problem);
    for (const key of ["lastSuccess", "nextDue", "repository"] as const) this.backupRows[key].setVisible(backups.configured);
    this.backupButton.setSensitive(backups.canBackUp);
    this.snapshots.widget.setVisible(backups.configured);
    this.snapshots.show(detail.name, backups.snapshots, backups.snapshotsNote);

    this.vpn.show(detail.name, vpn);

    setSubtitle(this.modeRow, detail.access.networkMode);
    this.shares.show(detail.access.shares);
    this.forwards.show(detail.access.forwards);
  }

  private generationRow(generation: GenerationRow): any {
    const row = textRow(this.gi, generation.title, `${generation.date} · ${generation.revision}`);
    if (!generation.current) {
      const button = this.button("Roll back to this", () => this.act((name) => this.actions.rollback(name, generation.number)));
      button.setSensitive(generation.canRollBack);
      row.addSuffix(button);
    }
    return row;
  }

  private optional(row: any, text: string): void {
    setSubtitle(row, text);
    row.setVisible(text !== "");
  }

  private button(label: string, onClick: () => void): any {
    const button = new this.gi.Gtk.Button({ label, valign: this.gi.Gtk.Align.CENTER });
    button.on("clicked", onClick);
    return button;
  }

  private act(run: (name: string) => void): void {
    if (this.current) run(this.current.name);
  }
}
