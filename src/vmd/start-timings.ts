// Where a start's time goes (docs/benchmarks.md, "vmd-cold-start"): the time since the previous mark, on the
// monotonic clock, for each step of one start. clan-vmd logs them as one line when CLAN_DEBUG is set; the
// benchmark reads that line.

const START_TIMINGS_PREFIX = "start timings:";

export class StartTimings {
  private readonly startedAt = performance.now();
  private last = this.startedAt;
  private readonly steps: [string, number][] = [];

  /** Ends the step `name`: the time since the previous mark (or the start) is its own. */
  mark(name: string): void {
    const now = performance.now();
    this.steps.push([name, now - this.last]);
    this.last = now;
  }

  /** "start timings: closure 3 ms, view 0 ms, …, total 2710 ms". */
  summary(): string {
    const steps = this.steps.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`);
    return `${START_TIMINGS_PREFIX} ${[...steps, `total ${(this.last - this.startedAt).toFixed(1)} ms`].join(", ")}`;
  }
}

/** The steps of a logged summary line, by name; undefined for a line that is not one. */
export function parseStartTimings(line: string): Map<string, number> | undefined {
  const at = line.indexOf(START_TIMINGS_PREFIX);
  if (at < 0) return undefined;
  const steps = new Map<string, number>();
  for (const part of line.slice(at + START_TIMINGS_PREFIX.length).split(",")) {
    const match = /^\s*(.+?) ([0-9.]+) ms\s*$/.exec(part);
    if (match) steps.set(match[1]!, Number(match[2]));
  }
  return steps;
}
