import { execa } from "execa";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, release, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { barFootprintBenchmark } from "./bar-footprint.js";
import { barLatencyBenchmark } from "./bar-latency.js";
import { clanctlStartupBenchmark } from "./clanctl-startup.js";
import type { Benchmark, BenchmarkResult, Measurement } from "./benchmark.js";
import { cleanUpEverything } from "./cleanup.js";
import { sessionScalingBenchmark } from "./session-scaling.js";
import { sessionMemoryBenchmark, sessionStormBenchmark, sessionSwitchBenchmark } from "./session-switch.js";
import { storeViewBenchmark } from "./store-view.js";
import { vmdColdStartBenchmark } from "./vmd-cold-start.js";
import { viewerDisplayBenchmark } from "./viewer-display.js";
import { vmdResumeBenchmark } from "./vmd-resume.js";

// npm run bench [-- NAME-FILTER] [--rounds N] [--resumes M]
// Runs the benchmarks whose name contains the filter, prints a table and writes bench/results/latest.json.
// clan-vmd runs from dist/: run `npm run build` first.

const BENCHMARKS: Benchmark[] = [
  vmdColdStartBenchmark,
  vmdResumeBenchmark,
  sessionSwitchBenchmark,
  sessionStormBenchmark,
  sessionMemoryBenchmark,
  sessionScalingBenchmark,
  barLatencyBenchmark,
  barFootprintBenchmark,
  storeViewBenchmark,
  clanctlStartupBenchmark,
  viewerDisplayBenchmark,
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "5" }, resumes: { type: "string", default: "200" } },
});
const options = { rounds: positiveInteger(values.rounds, "--rounds"), resumes: positiveInteger(values.resumes, "--resumes") };
const filter = positionals[0] ?? "";
const selected = BENCHMARKS.filter((b) => b.name.includes(filter));
if (selected.length === 0) {
  console.error(`no benchmark matches ${JSON.stringify(filter)}; there are: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  process.exit(2);
}

// A listener that stays registered: execa's own exit hook re-raises the signal, killing this process before
// the cleanup is done, when it believes it is the only listener.
let interrupted: Promise<void> | undefined;
for (const signalName of ["SIGINT", "SIGTERM"] as const) {
  process.on(signalName, () => {
    if (interrupted) return;
    console.error(`\n${signalName}: stopping everything the benchmarks started`);
    interrupted = cleanUpEverything().finally(() => process.exit(130));
  });
}

const results: Record<string, BenchmarkResult & { summary: string }> = {};
for (const benchmark of selected) {
  console.error(`running ${benchmark.name}: ${benchmark.summary}`);
  try {
    results[benchmark.name] = { summary: benchmark.summary, ...(await benchmark.run(options)) };
  } catch (error) {
    // An interrupt fails the running benchmark as its processes go away: let the cleanup finish and exit.
    if (interrupted) await interrupted;
    await cleanUpEverything();
    throw error;
  }
}

printTable(results);
const machine = await describeMachine();
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
const output = new URL("./results/latest.json", import.meta.url);
await writeFile(output, `${JSON.stringify({ date: new Date().toISOString(), machine, options, results }, null, 2)}\n`);
console.log(`\nwrote ${output.pathname}`);
const missed = Object.values(results).flatMap((r) => r.measurements).filter((m) => m.goal && !m.goal.met);
process.exitCode = missed.length > 0 ? 1 : 0;

function printTable(byName: typeof results): void {
  const rows = Object.entries(byName).flatMap(([name, result]) =>
    result.measurements.map((m) => [name, m.metric, formatValue(m), m.goal ? `≤ ${m.goal.atMost} ${m.unit}` : "", goalState(m)]),
  );
  const header = ["benchmark", "metric", "value", "goal", "result"];
  const widths = header.map((h, column) => Math.max(h.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
}

function formatValue(m: Measurement): string {
  if (m.unit === "count") return String(m.value);
  if (m.unit === "×") return `${m.value.toFixed(2)} ×`;
  return `${m.value.toFixed(m.unit === "%" ? 1 : m.value < 100 ? 2 : 0)} ${m.unit}`;
}

function goalState(m: Measurement): string {
  if (!m.goal) return "";
  return m.goal.met ? "met" : "MISSED";
}

async function describeMachine() {
  const qemu = await execa("qemu-system-x86_64", ["--version"], { reject: false });
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    qemu: qemu.stdout.split("\n")[0] ?? "unknown",
  };
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${option} must be a positive integer, not ${JSON.stringify(text)}`);
  return value;
}
