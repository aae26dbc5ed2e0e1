import type { ManagerGi } from "./gi.js";
import { GRAPH_SECONDS, type FigureGraph } from "./figures-presentation.js";
import type { MonitoringView } from "./monitoring-model.js";
import { setSubtitle, textRow } from "./row-group.js";

// "Monitoring" in the detail: one row per graph (CPU, memory, disk, network), its summary as the row's subtitle
// (text a screen reader reads) and the last 60 s drawn with cairo in a Gtk.DrawingArea beside it; what could not
// be measured; and the console log, an expander read when it is opened or Refresh is pressed. Text comes escaped
// from the presentation and clan-sessiond, and is set as plain text (no markup).

/* eslint-disable @typescript-eslint/no-explicit-any */
const GRAPH_WIDTH = 240;
const GRAPH_HEIGHT = 48;
/** The first line of a graph in blue, the second in orange (GNOME's palette). */
const LINE_COLOURS: readonly [number, number, number][] = [
  [0.21, 0.52, 0.89],
  [0.9, 0.38, 0.0],
];

export interface MonitoringActions {
  refreshConsole(): void;
}

export class MonitoringSectionView {
  readonly widget: any;
  private readonly graphRows: { row: any; area: any; graph: FigureGraph | undefined }[] = [];
  private readonly problemRow: any;
  private readonly consoleRow: any;
  private readonly consoleLabel: any;

  constructor(gi: ManagerGi, actions: MonitoringActions) {
    const { Adw, Gtk } = gi;
    this.widget = new Adw.PreferencesGroup({ title: "Monitoring", description: `the last ${GRAPH_SECONDS} s, sampled each second while this window shows it` });
    for (const title of ["CPU", "Memory", "Disk", "Network"]) {
      const row = textRow(gi, title);
      const area = new Gtk.DrawingArea({ contentWidth: GRAPH_WIDTH, contentHeight: GRAPH_HEIGHT, valign: Gtk.Align.CENTER });
      const entry: { row: any; area: any; graph: FigureGraph | undefined } = { row, area, graph: undefined };
      area.setDrawFunc((_area: unknown, cr: any, width: number, height: number) => drawGraph(cr, width, height, entry.graph));
      row.addSuffix(area);
      this.graphRows.push(entry);
      this.widget.add(row);
    }
    this.problemRow = textRow(gi, "Not measured");
    this.widget.add(this.problemRow);

    this.consoleRow = new Adw.ExpanderRow({ title: "Console log", subtitle: "the VM's serial console, as it printed it" });
    const refresh = new Gtk.Button({ label: "Refresh", valign: Gtk.Align.CENTER });
    refresh.on("clicked", () => actions.refreshConsole());
    this.consoleRow.addAction(refresh);
    this.consoleRow.on("notify::expanded", () => {
      if (this.consoleRow.getExpanded()) actions.refreshConsole();
    });
    this.consoleLabel = new Gtk.Label({ useMarkup: false, wrap: true, wrapMode: gi.Pango.WrapMode.WORD_CHAR, xalign: 0, yalign: 0, selectable: false });
    this.consoleLabel.addCssClass("monospace");
    this.consoleLabel.setMarginStart(12);
    this.consoleLabel.setMarginEnd(12);
    const scroller = new Gtk.ScrolledWindow({ child: this.consoleLabel, minContentHeight: 120, maxContentHeight: 320, propagateNaturalHeight: true });
    const adjustment = scroller.getVadjustment();
    // The console's end is what matters: once GTK laid out a longer text, it is what is in view.
    adjustment.on("changed", () => adjustment.setValue(adjustment.getUpper() - adjustment.getPageSize()));
    this.consoleRow.addRow(scroller);
    this.widget.add(this.consoleRow);
  }

  show(view: MonitoringView): void {
    this.widget.setVisible(view.network !== undefined);
    if (view.network === undefined) return;
    view.figures.graphs.forEach((graph, index) => {
      const entry = this.graphRows[index];
      if (!entry) return;
      entry.graph = graph;
      setSubtitle(entry.row, graph.summary);
      entry.area.queueDraw();
    });
    setSubtitle(this.problemRow, view.figures.problems);
    this.problemRow.setVisible(view.figures.problems !== "");
    const text = !view.console ? "" : view.console.ok ? view.console.value || "(the console is empty)" : `cannot read the console log: ${view.console.error}`;
    if (this.consoleLabel.getLabel() !== text) this.consoleLabel.setLabel(text);
  }
}

/** The graph's lines, newest on the right, over a faint frame; nothing to draw before the first samples. */
function drawGraph(cr: any, width: number, height: number, graph: FigureGraph | undefined): void {
  cr.setSourceRgba(0.5, 0.5, 0.5, 0.35);
  cr.setLineWidth(1);
  cr.rectangle(0.5, 0.5, width - 1, height - 1);
  cr.stroke();
  if (!graph) return;
  graph.lines.forEach((line, index) => {
    if (line.points.length === 0) return;
    const [red, green, blue] = LINE_COLOURS[index % LINE_COLOURS.length]!;
    cr.setSourceRgb(red, green, blue);
    cr.setLineWidth(1.5);
    line.points.forEach((point, pointIndex) => {
      const x = width * (1 - Math.min(point.age, GRAPH_SECONDS) / GRAPH_SECONDS);
      const y = height - 1 - (height - 2) * Math.min(1, point.value / graph.scale);
      if (pointIndex === 0) cr.moveTo(x, y);
      else cr.lineTo(x, y);
    });
    if (line.points.length === 1) cr.lineTo(width, height - 1 - (height - 2) * Math.min(1, line.points[0]!.value / graph.scale));
    cr.stroke();
  });
}
