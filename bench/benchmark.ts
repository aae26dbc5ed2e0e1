// What every benchmark returns: the numbers for the table, the goal each is held to, and the raw samples so
// that a later look can recompute anything.

export interface Measurement {
  metric: string;
  value: number;
  unit: "ms" | "%" | "MiB" | "count" | "frames/s" | "MB/s" | "×";
  /** The upper limit this value should stay under, and whether it did. */
  goal?: { atMost: number; met: boolean };
}

export interface BenchmarkResult {
  parameters: Record<string, string | number>;
  measurements: Measurement[];
  samples: Record<string, number[]>;
}

export interface BenchmarkOptions {
  rounds: number;
  resumes: number;
}

export interface Benchmark {
  name: string;
  summary: string;
  run(options: BenchmarkOptions): Promise<BenchmarkResult>;
}

export function withGoal(measurement: Omit<Measurement, "goal">, atMost: number): Measurement {
  return { ...measurement, goal: { atMost, met: measurement.value <= atMost } };
}
