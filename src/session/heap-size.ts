import { setFlagsFromString } from "node:v8";

// clan-sessiond's live heap is ≈ 15 MB, but with Node's defaults its resident memory grows far past it: the young
// generation grows to 2 × 16 MiB, and the old generation keeps 8 MiB or more of garbage between collections
// (docs/benchmarks.md, "clan-sessiond's memory"). Both are set here, in the process, so that every way of
// starting the daemon (the package's executable, D-Bus activation, `clanctl session-files`, tests, benchmarks)
// gets them without a flag on each command line.
// - `--semi-space-growth-factor=1`: the young generation keeps its first size (2 × 1 MiB). V8 reads the factor at
//   each growth, while `--max-semi-space-size` is fixed once the heap exists; on the command line V8 would raise
//   a factor below 2 to 2 when it configures the heap, so it can only be set here.
// - `--optimize-for-size`: V8 grows the old generation's limit by at most 30 % (at least 2 MiB) past what a
//   collection left alive, instead of doubling it with 8 MiB steps; read at each collection.
// It must run before the daemon's modules load: parsing them is what first grows the heap.

/** Keeps V8's young generation at its first size and its old generation close to what is alive. */
export function keepHeapSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--optimize-for-size");
}
