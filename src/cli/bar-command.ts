import { fstatSync } from "node:fs";
import type { MessageBus } from "@jellybrick/dbus-next";
import { onBusError } from "../shared/bus.js";
import { SESSION_BUS_NAME } from "../shared/dbus-names.js";
import { ClanError, errorMessage, UsageError } from "../shared/errors.js";
import { watchName } from "../shared/name-watch.js";
import { describeNameProblem } from "../shared/network-name.js";
import { SessionClient } from "../shared/session-client.js";
import { BAR_FORMAT_NAMES, type BarFormat, type BarFormatName } from "../bar/bar-format.js";
import { BarRunner } from "../bar/bar-runner.js";
import { i3barFormat } from "../bar/i3bar-format.js";
import { i3blocksFormat } from "../bar/i3blocks-format.js";
import { SessionFeed } from "../bar/session-feed.js";
import { stdinIsSignalDrivenElsewhere } from "../bar/stdin-clicks.js";
import { waybarFormat } from "../bar/waybar-format.js";

// `clanctl bar`: the status module for swaybar/i3bar, waybar and i3blocks (docs/bar.md). It runs until the bar
// stops it: clan-sessiond going away only changes what it shows.

const FORMATS: Record<BarFormatName, (network: string | undefined) => BarFormat> = {
  i3bar: i3barFormat,
  waybar: waybarFormat,
  i3blocks: i3blocksFormat,
};

export async function runBarCommand(
  { values }: { values: { format?: string | undefined; network?: string | undefined } },
  connect: () => MessageBus,
): Promise<void> {
  const formatName = (values.format ?? "i3bar") as BarFormatName;
  if (!BAR_FORMAT_NAMES.includes(formatName)) {
    throw new UsageError(`bar: --format must be one of ${BAR_FORMAT_NAMES.join(", ")}, not ${JSON.stringify(values.format)}`);
  }
  const problem = values.network === undefined ? undefined : describeNameProblem(values.network);
  if (problem) throw new UsageError(`bar: --network: ${problem}`);

  const report = (message: string) => process.stderr.write(`clanctl bar: ${message}\n`);
  const bus = connect();
  const format = FORMATS[formatName](values.network);
  const feed = new SessionFeed({
    watch: (handlers) => watchName(bus, SESSION_BUS_NAME, handlers),
    connect: () => SessionClient.connect(bus),
    report,
  });
  const runner = new BarRunner({ format, feed, write: (text) => process.stdout.write(text), report });

  // The bar closed its end: nobody is left to show anything to.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") report(`cannot write to the bar: ${error.message}`);
    process.exit(error.code === "EPIPE" ? 0 : 1);
  });
  // Without the session bus there is no clan-sessiond to wait for: the session itself has ended.
  const busLost = new Promise<never>((_resolve, reject) => {
    onBusError(bus, (error) => reject(new ClanError("Disconnected", `session bus lost: ${errorMessage(error)}`)));
  });

  runner.start();
  await feed.start();
  if (format.clicksOnStdin) await followClicks(runner, report);
  await busLost;
}

async function followClicks(runner: BarRunner, report: (message: string) => void): Promise<void> {
  if (await stdinIsSignalDrivenElsewhere()) {
    report("stdin is the bar's own click stream (i3blocks 1.4): not reading it, so clicks do nothing here");
    return;
  }
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => runner.clickInput(chunk));
  process.stdin.on("error", (error) => report(`click input failed: ${error.message}`));
  // i3bar, swaybar and i3blocks ≥ 1.5 give the module a pipe for clicks: its end means the bar is gone, even one
  // that was killed and so could not stop its module. (Started from a terminal or with </dev/null, stdin is no
  // pipe, and its end ends only the clicks.)
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on("end", () => {
      report("the bar closed its click pipe: exiting");
      process.exit(0);
    });
  }
}
