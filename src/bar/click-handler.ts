import { errorMessage } from "../shared/errors.js";
import { actionForClick, type BarAction } from "./click-actions.js";
import { parseClickLine } from "./click-events.js";

// A bar's click stream, turned into calls to clan-sessiond. A failed call or an invalid click is reported (the
// daemon's log names the bar) and the stream carries on: a bar, or anyone who can write to its pipe, cannot make
// this do more than a click could.

/** The calls a click can make. */
export interface BarActions {
  switchTo(network: string): Promise<void>;
  /** Both start a job and resolve with its id at once (docs/dbus.md, "Jobs"). */
  startRebuild(network: string): Promise<string>;
  startRollback(network: string, to?: number): Promise<string>;
  /** Opens the manager window (or brings the open one forward). */
  openManager(): Promise<void>;
}

export class ClickHandler {
  constructor(
    private readonly actions: BarActions,
    private readonly report: (message: string) => void,
  ) {}

  /** One line of the bar's click stream (ClickLineSplitter has already bounded its length). */
  clickLine(line: string): void {
    const parsed = parseClickLine(line);
    if (parsed.kind === "blank") return;
    if (parsed.kind === "invalid") {
      this.report(`ignoring click input: ${parsed.reason}`);
      return;
    }
    const outcome = actionForClick(parsed.click);
    if ("ignored" in outcome) {
      if (!outcome.quiet) this.report(`ignoring ${outcome.ignored}`);
      return;
    }
    this.perform(outcome.action);
  }

  private perform(action: BarAction): void {
    if (action.method === "OpenManager") {
      this.actions.openManager().catch((error: unknown) => this.report(`OpenManager failed: ${errorMessage(error)}`));
      return;
    }
    const what = `${action.method} ${action.network}`;
    const call =
      action.method === "Switch"
        ? this.actions.switchTo(action.network)
        : action.method === "Rebuild"
          ? this.actions.startRebuild(action.network)
          : this.actions.startRollback(action.network, action.generation);
    // A job: the call returns at once with its id, and the bar shows its progress from the network's status.
    call.catch((error: unknown) => this.report(`${what} failed: ${errorMessage(error)}`));
  }
}
