import { readFile } from "node:fs/promises";
import { median } from "./stats.js";

// node --import tsx bench/hop-breakdown.ts FILE — where the time of session-switch's samples goes, from the hops
// that every process noted with CLAN_TRACE_HOPS=FILE (src/shared/hop-trace.ts) during `npm run bench --
// session-switch`. A sample runs from the benchmark's "command-sent" to its "network-running-received"; each
// hop of the daemons in between is the first of its name. One table per clan-sessiond (session-switch runs two side
// by side, told apart by the process that handled the focus) gives each step's median over all its samples and
// over its slowest 5 %.

const STEPS = [
  "command-sent",
  "wm-event-read",
  "focus-handled",
  "resume-called",
  "resume-received",
  "cont-sent",
  "cont-answered",
  "state-changed-sent:running",
  "state-changed-received:running",
  "network-changed-sent:running",
  "network-running-received",
] as const;

interface Hop {
  at: number;
  pid: number;
  name: string;
}

function parse(text: string): Hop[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [ns, pid, name] = line.split(" ");
      return { at: Number(BigInt(ns!) / 1000n) / 1000, pid: Number(pid), name: name! };
    })
    .sort((a, b) => a.at - b.at);
}

type Sample = (number | undefined)[];

/** Per clan-sessiond's pid, its samples: the time (ms) at which each step was first reached, in STEPS' order. */
function samplesOf(hops: Hop[]): Map<number, Sample[]> {
  const samples = new Map<number, Sample[]>();
  let current: Map<string, Hop> | undefined;
  let benchmarkPid: number | undefined;
  for (const hop of hops) {
    if (hop.name === "command-sent") {
      benchmarkPid = hop.pid;
      current = new Map([[hop.name, hop]]);
    } else if (current && hop.name === "network-running-received" && hop.pid === benchmarkPid) {
      current.set(hop.name, hop);
      const sessiond = current.get("focus-handled")?.pid ?? 0;
      samples.set(sessiond, [...(samples.get(sessiond) ?? []), STEPS.map((step) => current!.get(step)?.at)]);
      current = undefined;
    } else if (current && !current.has(hop.name)) {
      current.set(hop.name, hop);
    }
  }
  return samples;
}

const file = process.argv[2];
if (!file) throw new Error("usage: hop-breakdown.ts FILE (written with CLAN_TRACE_HOPS=FILE)");
const total = (sample: Sample) => sample.at(-1)! - sample[0]!;

function stepMedian(group: Sample[], index: number): string {
  const deltas = group.flatMap((sample) => {
    const [from, to] = [sample[index - 1], sample[index]];
    return from === undefined || to === undefined ? [] : [to - from];
  });
  return deltas.length === 0 ? "—" : `${median(deltas).toFixed(2)} ms (${deltas.length})`;
}

for (const [sessiond, samples] of samplesOf(parse(await readFile(file, "utf8")))) {
  // A sample no clan-sessiond handled the focus of (the trace began or ended inside it) says nothing.
  if (sessiond === 0) continue;
  const slowest = [...samples].sort((a, b) => total(b) - total(a)).slice(0, Math.max(1, Math.ceil(samples.length * 0.05)));
  console.log(`\nclan-sessiond ${sessiond}: ${samples.length} samples; the slowest 5 %: ${slowest.length}, from ${total(slowest.at(-1)!).toFixed(2)} ms\n`);
  console.log(`| ${"step".padEnd(64)} | all samples, median | slowest 5 %, median |`);
  console.log(`| ${"-".repeat(64)} | ------------------: | ------------------: |`);
  for (let index = 1; index < STEPS.length; index++) {
    console.log(`| ${`${STEPS[index - 1]} → ${STEPS[index]}`.padEnd(64)} | ${stepMedian(samples, index).padStart(19)} | ${stepMedian(slowest, index).padStart(19)} |`);
  }
  console.log(`| ${"whole switch".padEnd(64)} | ${`${median(samples.map(total)).toFixed(2)} ms`.padStart(19)} | ${`${median(slowest.map(total)).toFixed(2)} ms`.padStart(19)} |`);
}
