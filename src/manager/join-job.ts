import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventEmitter } from "node:events";
import { terminalSafe } from "../shared/untrusted-text.js";
import { previewJoinLink, type JoinPreview } from "./join-presentation.js";

// The join page's state without GTK: the pasted link and what it says (join-presentation.ts), and the join the user
// confirmed. Only confirm() fetches anything: it runs `clanctl join --yes --from-desktop LINK`, the same join a
// terminal user runs (fetch the source, check its inputs, register the network, have clan-sessiond build and boot
// it), and shows its output as it comes. --from-desktop makes clanctl refuse a local source again on its side.

const CLANCTL = fileURLToPath(new URL("../../bin/clanctl.js", import.meta.url));
/** How many of the join's last output lines the page keeps. */
const MAX_LINES = 40;
const MAX_LINE = 400;

/** A running join: its output lines, then how it ended. */
export interface JoinProcess {
  onLine(listener: (line: string) => void): void;
  onExit(listener: (exitCode: number | null, error: string | undefined) => void): void;
}

export type JoinState =
  | { kind: "idle" }
  | { kind: "running"; link: string; lines: string[] }
  | { kind: "done" | "failed"; link: string; lines: string[]; outcome: string };

export interface JoinView {
  text: string;
  preview: JoinPreview;
  job: JoinState;
  canConfirm: boolean;
}

export class JoinModel extends EventEmitter<{ changed: [] }> {
  private text = "";
  private preview: JoinPreview = { kind: "empty" };
  private job: JoinState = { kind: "idle" };

  constructor(private readonly startJoin: (link: string) => JoinProcess = runClanctlJoin) {
    super();
  }

  view(): JoinView {
    return { text: this.text, preview: this.preview, job: this.job, canConfirm: this.preview.kind === "ready" && this.job.kind !== "running" };
  }

  /** The link in the entry changed: what it says is shown; nothing is fetched. */
  setText(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.preview = previewJoinLink(text);
    this.emit("changed");
  }

  /** The user pressed "Fetch and join" for the link shown now. */
  confirm(): void {
    const preview = this.preview;
    if (preview.kind !== "ready" || this.job.kind === "running") return;
    const job: JoinState = { kind: "running", link: preview.link, lines: [] };
    this.job = job;
    const lines = job.lines;
    const process = this.startJoin(preview.link);
    process.onLine((line) => {
      lines.push(terminalSafe(line, { maxChars: MAX_LINE }));
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      this.emit("changed");
    });
    process.onExit((exitCode, error) => {
      const last = lines.at(-1) ?? "";
      this.job =
        exitCode === 0
          ? { kind: "done", link: preview.link, lines, outcome: last }
          : { kind: "failed", link: preview.link, lines, outcome: error !== undefined ? terminalSafe(error, { maxChars: MAX_LINE }) : last || `clanctl join exited with ${String(exitCode)}` };
      this.emit("changed");
    });
    this.emit("changed");
  }
}

function runClanctlJoin(link: string): JoinProcess {
  const child = spawn(process.execPath, [CLANCTL, "join", "--yes", "--from-desktop", "--", link], { stdio: ["ignore", "pipe", "pipe"] });
  const lineListeners: ((line: string) => void)[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (line) => lineListeners.forEach((listener) => listener(line)));
  let spawnError: string | undefined;
  child.on("error", (error) => (spawnError = `cannot run clanctl join: ${error.message}`));
  return {
    onLine: (listener) => lineListeners.push(listener),
    onExit: (listener) => child.on("close", (code) => listener(code, spawnError)),
  };
}
