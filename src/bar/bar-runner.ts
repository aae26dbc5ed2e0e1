import { errorMessage } from "../shared/errors.js";
import type { BarFormat } from "./bar-format.js";
import { actionForClick, type BarAction } from "./click-actions.js";
import { ClickLineSplitter, parseClickLine } from "./click-events.js";
import type { BarState } from "./model.js";
import type { SessionFeed, SessionLink } from "./session-feed.js";

// The running status module: every state the feed publishes becomes one protocol line, written at once (a
// status that did not change is not written again), and every click line becomes a call to clan-sessiond.
// A failed call or an invalid click is reported on stderr, which the bar keeps in its log, and the module
// carries on.

/** The calls a click can make (SessionClient has them). */
export interface BarActions {
  switchTo(network: string): Promise<void>;
  /** Both start a job and resolve with its id at once (docs/dbus.md, "Jobs"). */
  startRebuild(network: string): Promise<string>;
  startRollback(network: string, to?: number): Promise<string>;
}

export interface BarRunnerOptions {
  format: BarFormat;
  feed: SessionFeed<SessionLink & BarActions>;
  /** Writes to the bar at once: process.stdout.write, never a buffer that waits for more. */
  write(text: string): void;
  report(message: string): void;
}

export class BarRunner {
  private lastStatus: string | undefined;
  private readonly clickLines: ClickLineSplitter;

  constructor(private readonly options: BarRunnerOptions) {
    this.clickLines = new ClickLineSplitter(
      (line) => this.clickLine(line),
      (length) => options.report(`ignoring a click line of ${length} characters: longer than any click event`),
    );
  }

  /** Writes the protocol's preamble and then a line for every state the feed publishes. */
  start(): void {
    const { format, feed, write } = this.options;
    if (format.preamble) write(format.preamble);
    feed.on("state", (state) => this.show(state));
  }

  /** Input from the bar's click stream, in chunks of any size. */
  clickInput(chunk: string): void {
    this.clickLines.push(chunk);
  }

  private show(state: BarState): void {
    const status = this.options.format.render(state);
    if (status === this.lastStatus) return;
    const first = this.lastStatus === undefined;
    this.lastStatus = status;
    this.options.write(this.options.format.frame(status, first));
  }

  private clickLine(line: string): void {
    const parsed = parseClickLine(line);
    if (parsed.kind === "blank") return;
    if (parsed.kind === "invalid") {
      this.options.report(`ignoring click input: ${parsed.reason}`);
      return;
    }
    const outcome = actionForClick(parsed.click);
    if ("ignored" in outcome) {
      if (!outcome.quiet) this.options.report(`ignoring ${outcome.ignored}`);
      return;
    }
    this.perform(outcome.action);
  }

  private perform(action: BarAction): void {
    const what = `${action.method} ${action.network}`;
    const session = this.options.feed.session;
    if (!session) {
      this.options.report(`${what}: clan-sessiond is not running`);
      return;
    }
    const call =
      action.method === "Switch"
        ? session.switchTo(action.network)
        : action.method === "Rebuild"
          ? session.startRebuild(action.network)
          : session.startRollback(action.network, action.generation);
    // A job: the call returns at once with its id, and the bar shows its progress from the network's status.
    call.catch((error: unknown) => this.options.report(`${what} failed: ${errorMessage(error)}`));
  }
}
