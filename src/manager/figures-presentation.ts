import type { VmFigures } from "../shared/monitoring-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { formatBytes } from "./network-presentation.js";

// Plain data for the monitoring graphs (no GTK): the last 60 s of a VM's samples turned into CPU use (of one
// core), memory, and disk and network rates, each with a one-line summary that the graph's row shows as text
// (what a screen reader reads, and what the tests read). Counters are cumulative: a rate needs two samples, and a
// counter that went down (QEMU restarted) starts the series again.

export const GRAPH_SECONDS = 60;

export interface GraphPoint {
  /** Seconds before the newest sample, 0 … GRAPH_SECONDS. */
  age: number;
  value: number;
}

export interface GraphLine {
  label: string;
  points: GraphPoint[];
}

export interface FigureGraph {
  title: string;
  summary: string;
  lines: GraphLine[];
  /** The top of the graph's scale: at least the largest value, never 0. */
  scale: number;
}

export interface FiguresView {
  graphs: FigureGraph[];
  /** What could not be measured in the newest sample, "" when all was. */
  problems: string;
}

type Counter = (figures: VmFigures) => number;

/** The value of `counter` at each sample that has one. */
function levels(samples: VmFigures[], newest: number, counter: Counter): GraphPoint[] {
  return samples.filter((sample) => counter(sample) >= 0).map((sample) => ({ age: (newest - sample.sampledAt) / 1000, value: counter(sample) }));
}

/** Per-second change of `counter` between consecutive samples that both have it; `scale` turns units into the shown ones. */
function rates(samples: VmFigures[], newest: number, counter: Counter, scale = 1): GraphPoint[] {
  const points: GraphPoint[] = [];
  for (let index = 1; index < samples.length; index++) {
    const before = samples[index - 1]!;
    const after = samples[index]!;
    const seconds = (after.sampledAt - before.sampledAt) / 1000;
    const change = counter(after) - counter(before);
    if (counter(before) < 0 || counter(after) < 0 || seconds <= 0 || change < 0) continue;
    points.push({ age: (newest - after.sampledAt) / 1000, value: (change / seconds) * scale });
  }
  return points;
}

const latest = (points: GraphPoint[]): number | undefined => points.at(-1)?.value;

function graph(title: string, lines: GraphLine[], summary: string): FigureGraph {
  const largest = Math.max(0, ...lines.flatMap((line) => line.points.map((point) => point.value)));
  return { title, summary, lines, scale: largest > 0 ? largest : 1 };
}

function rateSummary(lines: GraphLine[]): string {
  const parts = lines.map((line) => {
    const value = latest(line.points);
    return value === undefined ? undefined : `${line.label} ${formatBytes(value)}/s`;
  });
  return parts.every((part) => part === undefined) ? "not measured yet" : parts.map((part, index) => part ?? `${lines[index]!.label} unknown`).join(" · ");
}

/**
 * The guest's used memory while the guest reports it (its balloon statistics, labelled as its word), else QEMU's
 * resident memory, which also counts pages the guest touched and has not yet handed back. The summary says which
 * one the graph shows.
 */
function memoryGraphOf(recent: VmFigures[], newestSample: VmFigures): FigureGraph {
  const newest = newestSample.sampledAt;
  const resident = newestSample.memoryBytes >= 0 ? formatBytes(newestSample.memoryBytes) : undefined;
  if (newestSample.guestMemoryUsedBytes >= 0) {
    const used = levels(recent, newest, (sample) => sample.guestMemoryUsedBytes);
    const summary = `${formatBytes(newestSample.guestMemoryUsedBytes)} used of ${formatBytes(newestSample.guestMemoryTotalBytes)}, as the guest reports${resident === undefined ? "" : ` · QEMU ${resident} resident`}`;
    const memoryGraph = graph("Memory", [{ label: "used (the guest's report)", points: used }], summary);
    // Used against the guest's whole memory: the graph shows how full it is.
    memoryGraph.scale = Math.max(memoryGraph.scale, ...recent.map((sample) => sample.guestMemoryTotalBytes));
    return memoryGraph;
  }
  const points = levels(recent, newest, (sample) => sample.memoryBytes);
  return graph("Memory", [{ label: "QEMU resident", points }], resident === undefined ? "not measured" : `${resident} resident in QEMU (the guest reports no figures)`);
}

/** `samples` oldest first, all of one network. */
export function figuresView(samples: VmFigures[]): FiguresView {
  const newestSample = samples.at(-1);
  if (!newestSample) {
    const waiting = (title: string) => graph(title, [], "waiting for the first sample");
    return { graphs: [waiting("CPU"), waiting("Memory"), waiting("Disk"), waiting("Network")], problems: "" };
  }
  const newest = newestSample.sampledAt;
  const recent = samples.filter((sample) => newest - sample.sampledAt <= GRAPH_SECONDS * 1000);

  const cpu = rates(recent, newest, (sample) => sample.cpuSeconds, 100);
  const cpuNow = latest(cpu);
  const cpuGraph = graph("CPU", [{ label: "QEMU", points: cpu }], cpuNow === undefined ? "not measured yet" : `${cpuNow.toFixed(1)} % of one core`);
  // Several cores make more than 100 %: the scale follows, but never shows less than one core.
  cpuGraph.scale = Math.max(100, cpuGraph.scale);

  const memoryGraph = memoryGraphOf(recent, newestSample);

  const diskLines = [
    { label: "read", points: rates(recent, newest, (sample) => sample.diskReadBytes) },
    { label: "written", points: rates(recent, newest, (sample) => sample.diskWriteBytes) },
  ];
  const netLines = [
    { label: "received", points: rates(recent, newest, (sample) => sample.netReceivedBytes) },
    { label: "sent", points: rates(recent, newest, (sample) => sample.netSentBytes) },
  ];
  return {
    graphs: [cpuGraph, memoryGraph, graph("Disk", diskLines, rateSummary(diskLines)), graph("Network", netLines, rateSummary(netLines))],
    problems: terminalSafe(newestSample.problems.join("; "), { maxChars: 600 }),
  };
}
