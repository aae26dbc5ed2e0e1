import { errorMessage } from "../shared/errors.js";
import { signal, waitForExit } from "./qemu-process.js";
import type { QmpClient } from "./qmp-client.js";

// A guest may ignore the power button (no ACPI daemon, a hung init): each step gets a time limit and the next
// step is harsher, ending in SIGKILL, so stop always ends with no process.

export interface StopTimeouts {
  powerdownMs: number;
  quitMs: number;
  termMs: number;
}

export const DEFAULT_STOP_TIMEOUTS: StopTimeouts = { powerdownMs: 20_000, quitMs: 3_000, termMs: 3_000 };

export type StopMethod = "powerdown" | "quit" | "sigterm" | "sigkill" | "already-exited";

export async function escalateStop({
  pid,
  qmp,
  timeouts,
  log,
}: {
  pid: number;
  qmp: QmpClient | undefined;
  timeouts: StopTimeouts;
  log: (message: string) => void;
}): Promise<StopMethod> {
  if (await waitForExit(pid, 0)) return "already-exited";
  if (qmp && !qmp.closed) {
    try {
      await qmp.execute("system_powerdown", undefined, 2000);
      if (await waitForExit(pid, timeouts.powerdownMs)) return "powerdown";
      log(`pid ${pid}: guest ignored the power button for ${timeouts.powerdownMs} ms; sending QMP quit`);
    } catch (error) {
      log(`pid ${pid}: system_powerdown failed: ${errorMessage(error)}`);
    }
    if (!qmp.closed) {
      await qmp.execute("quit", undefined, 2000).catch((error: unknown) => log(`pid ${pid}: QMP quit failed: ${errorMessage(error)}`));
      if (await waitForExit(pid, timeouts.quitMs)) return "quit";
    }
  }
  signal(pid, "SIGTERM");
  if (await waitForExit(pid, timeouts.termMs)) return "sigterm";
  log(`pid ${pid}: still alive after SIGTERM; sending SIGKILL`);
  signal(pid, "SIGKILL");
  await waitForExit(pid, 5000);
  return "sigkill";
}
