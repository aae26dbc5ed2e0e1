import { setFlagsFromString } from "node:v8";

// clan-sessiond's resident memory is mostly V8's young generation, which Node lets grow to 2 × 16 MiB while the
// live heap stays near 15 MB (docs/benchmarks.md, "clan-sessiond's memory"). Keeping it at its first size
// (2 × 1 MiB) is done here, in the process, so that every way of starting the daemon (the package's executable,
// D-Bus activation, `clanctl session-files`, tests, benchmarks) gets it without a flag on each command line.
// `--max-semi-space-size` cannot be changed once the heap exists, but the growth factor is read at each growth:
// at 1 the young generation never grows. Given on the command line, V8 raises it to 2 when it configures the
// heap, so it must be set here. It must run before the daemon's modules load: parsing them is what grows it.

/** Stops the young generation from growing past its initial size. */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
