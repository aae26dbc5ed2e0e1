import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BAR_FORMAT_NAMES, type BarFormatName } from "../bar/bar-format.js";
import { ClanError, UsageError } from "../shared/errors.js";
import { describeNameProblem } from "../shared/network-name.js";

// `clanctl bar`: kept for bar configs that name it (docs/bar.md). clan-sessiond serves the bar itself and
// bin/clan-bar-relay carries its lines, so this only runs that relay on the same stdin and stdout. Node cannot
// exec, so this process stays as the relay's parent for as long as the bar runs it: a bar config that runs
// clan-bar-relay directly, as the snippets of `clanctl sway-config` and `clanctl i3-config` do, saves its memory.

export const BAR_RELAY = fileURLToPath(new URL("../../bin/clan-bar-relay", import.meta.url));

export async function runBarCommand({ values }: { values: { format?: string | undefined; network?: string | undefined } }): Promise<void> {
  const formatName = values.format ?? "i3bar";
  if (!BAR_FORMAT_NAMES.includes(formatName as BarFormatName)) {
    throw new UsageError(`bar: --format must be one of ${BAR_FORMAT_NAMES.join(", ")}, not ${JSON.stringify(values.format)}`);
  }
  const problem = values.network === undefined ? undefined : describeNameProblem(values.network);
  if (problem) throw new UsageError(`bar: --network: ${problem}`);

  // The bar's stdin reaches the relay as fd 3, moved to 0 by sh: libuv makes a child's fds 0-2 blocking, which
  // for i3blocks 1.4's own stdin (shared with its blocks) would hang i3blocks on its next read of a click.
  const relay = spawn("/bin/sh", ["-c", 'exec "$0" "$@" <&3 3<&-', BAR_RELAY, formatName, ...(values.network === undefined ? [] : [values.network])], {
    stdio: ["ignore", "inherit", "inherit", 0],
  });
  // The bar stops its status command with a signal: the relay passes it on to its socat and cat.
  for (const signalName of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signalName, () => relay.kill(signalName));
  const code = await new Promise<number>((resolve, reject) => {
    relay.once("error", (error) => reject(new ClanError("NotFound", `bar: cannot run ${BAR_RELAY}: ${error.message}`)));
    relay.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 0)));
  });
  process.exitCode = code;
}
