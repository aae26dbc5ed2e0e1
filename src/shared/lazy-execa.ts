import type { execa as ExecaFunction } from "execa";

// execa and the modules it loads cost a daemon ≈ 2 MB of heap and several MiB resident from its start, for
// commands a serving clan-sessiond runs rarely (restic, nix, git, xprop, `sway --get-socketpath`): it is loaded
// at the first of them instead (docs/benchmarks.md, "clan-sessiond's memory").

let loading: Promise<typeof ExecaFunction> | undefined;

/** execa, imported the first time a command runs. */
export function loadExeca(): Promise<typeof ExecaFunction> {
  loading ??= import("execa").then((module) => module.execa);
  return loading;
}
