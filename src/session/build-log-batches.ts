import type { BuildLogLines } from "../shared/monitoring-api.js";

// BuildLogChanged: a build prints lines as fast as it likes, and the clients hear of them at most every 250 ms,
// in one signal per network with the lines since the last one. Before BuildLog answers, the lines waiting are
// sent, so a client that ignores the signals arriving while its BuildLog read is under way, and appends those
// that arrive after the reply, has every line exactly once (docs/dbus.md, `BuildLogChanged`).

export const BUILD_LOG_BATCH_MS = 250;
/** BuildLog keeps 400 lines: a batch never needs more. */
const MAX_BATCH_LINES = 400;

interface Pending {
  lines: string[];
  first: boolean;
  timer: NodeJS.Timeout;
}

export class BuildLogBatches {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly publish: (batch: BuildLogLines) => void) {}

  /** A new build of `network` starts: what is pending belonged to the last one, and the next batch says it is first. */
  started(network: string): void {
    const pending = this.pending.get(network);
    if (pending) clearTimeout(pending.timer);
    this.pending.set(network, { lines: [], first: true, timer: setTimeout(() => this.flush(network), BUILD_LOG_BATCH_MS) });
  }

  line(network: string, text: string): void {
    let pending = this.pending.get(network);
    if (!pending) {
      pending = { lines: [], first: false, timer: setTimeout(() => this.flush(network), BUILD_LOG_BATCH_MS) };
      this.pending.set(network, pending);
    }
    pending.lines.push(text);
    if (pending.lines.length > MAX_BATCH_LINES) pending.lines.splice(0, pending.lines.length - MAX_BATCH_LINES);
  }

  /** Sends what is waiting for `network` now. */
  flush(network: string): void {
    const pending = this.pending.get(network);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(network);
    if (pending.lines.length > 0 || pending.first) this.publish({ network, lines: pending.lines, first: pending.first });
  }

  close(): void {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }
}
