import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventEmitter } from "node:events";
import { errorMessage } from "../shared/errors.js";
import { FetchedJoin } from "../shared/join-links/fetched-join.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { previewJoinLink, type JoinPreview } from "./join-presentation.js";
import { presentJoinRequest, type JoinRequestView } from "./join-request-presentation.js";

// The join page's state without GTK: the link and what it says (join-presentation.ts), then the join in the two
// steps of `clanctl join` (docs/links.md), each the user's own decision. fetch() runs
// `clanctl join --yes --from-desktop --fetch-only LINK`: the source only, its inputs checked, nothing registered;
// the page then shows what the fetched network asks for. Only build() — "Join and build" — runs
// `clanctl join --yes --from-desktop --build-fetched=-` with that very description on its stdin, which registers
// the network and has clan-sessiond build and boot exactly the fetched revision. cancel() forgets what was fetched.
// --from-desktop makes clanctl refuse a local source again on its side.

const CLANCTL = fileURLToPath(new URL("../../bin/clanctl.js", import.meta.url));
/** How many of a step's last output lines the page keeps. */
const MAX_LINES = 40;
const MAX_LINE = 400;

/** A running step of the join: its output lines, then how it ended and what it printed on stdout (the fetch's JSON). */
export interface JoinProcess {
  onLine(listener: (line: string) => void): void;
  onExit(listener: (exitCode: number | null, error: string | undefined, stdout: string) => void): void;
}

export interface JoinSteps {
  fetch(link: string): JoinProcess;
  build(fetched: FetchedJoin): JoinProcess;
}

export type JoinState =
  | { kind: "idle" }
  | { kind: "fetching"; link: string; lines: string[] }
  | { kind: "fetched"; link: string; lines: string[]; fetched: FetchedJoin; request: JoinRequestView }
  | { kind: "building"; link: string; lines: string[]; request: JoinRequestView }
  | { kind: "cancelled"; link: string }
  | { kind: "done" | "failed"; step: "fetch" | "build"; link: string; lines: string[]; outcome: string };

export interface JoinView {
  text: string;
  preview: JoinPreview;
  job: JoinState;
  /** Whether Fetch may be pressed: a link that is not refused, and no step running or waiting for the second question. */
  canFetch: boolean;
}

export class JoinModel extends EventEmitter<{ changed: [] }> {
  private text = "";
  private preview: JoinPreview = { kind: "empty" };
  private job: JoinState = { kind: "idle" };

  constructor(private readonly steps: JoinSteps = clanctlSteps) {
    super();
  }

  view(): JoinView {
    const busy = this.job.kind === "fetching" || this.job.kind === "fetched" || this.job.kind === "building";
    return { text: this.text, preview: this.preview, job: this.job, canFetch: this.preview.kind === "ready" && !busy };
  }

  /** The link in the entry changed: what it says is shown; nothing is fetched. A fetched source no longer shown goes. */
  setText(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.preview = previewJoinLink(text);
    if (this.job.kind === "fetched") this.job = { kind: "idle" };
    this.emit("changed");
  }

  /** A link handed to the window was refused before it was read (refusedByLinkSize): the page says why. */
  refuse(reason: string): void {
    this.text = "";
    this.preview = { kind: "refused", reason };
    if (this.job.kind === "fetched") this.job = { kind: "idle" };
    this.emit("changed");
  }

  /**
   * The user pressed "Fetch" on the page showing `shownLink`: step one only, and only of that link. The page is
   * redrawn when GTK is idle, so a press may come after the entry changed but before the page showed it: that
   * press fetches nothing rather than a link the user has not seen.
   */
  fetch(shownLink: string): void {
    const preview = this.preview;
    if (preview.kind !== "ready" || preview.link !== shownLink || !this.view().canFetch) return;
    const link = preview.link;
    const job = { kind: "fetching" as const, link, lines: [] as string[] };
    this.job = job;
    const process = this.steps.fetch(link);
    this.follow(process, job.lines);
    process.onExit((exitCode, error, stdout) => {
      if (this.job !== job) return;
      if (exitCode !== 0) {
        this.job = failed("fetch", link, job.lines, exitCode, error);
      } else {
        try {
          const fetched = FetchedJoin.parse(JSON.parse(stdout));
          this.job = { kind: "fetched", link, lines: job.lines, fetched, request: presentJoinRequest(fetched) };
        } catch (parseError) {
          this.job = failed("fetch", link, job.lines, exitCode, `clanctl join --fetch-only printed no description: ${errorMessage(parseError)}`);
        }
      }
      this.emit("changed");
    });
    this.emit("changed");
  }

  /** The user pressed "Join and build" on the fetched network shown: step two, of exactly what was fetched. */
  build(): void {
    const job = this.job;
    if (job.kind !== "fetched") return;
    const building = { kind: "building" as const, link: job.link, lines: [] as string[], request: job.request };
    this.job = building;
    const process = this.steps.build(job.fetched);
    this.follow(process, building.lines);
    process.onExit((exitCode, error) => {
      if (this.job !== building) return;
      this.job =
        exitCode === 0 ? { kind: "done", step: "build", link: job.link, lines: building.lines, outcome: building.lines.at(-1) ?? "" } : failed("build", job.link, building.lines, exitCode, error);
      this.emit("changed");
    });
    this.emit("changed");
  }

  /** The user pressed "Cancel" at the second question: what was fetched is forgotten, nothing is registered. */
  cancel(): void {
    if (this.job.kind !== "fetched") return;
    this.job = { kind: "cancelled", link: this.job.link };
    this.emit("changed");
  }

  private follow(process: JoinProcess, lines: string[]): void {
    process.onLine((line) => {
      lines.push(terminalSafe(line, { maxChars: MAX_LINE }));
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      this.emit("changed");
    });
  }
}

function failed(step: "fetch" | "build", link: string, lines: string[], exitCode: number | null, error: string | undefined): JoinState {
  const outcome = error !== undefined ? terminalSafe(error, { maxChars: MAX_LINE }) : lines.at(-1) || `clanctl join exited with ${String(exitCode)}`;
  return { kind: "failed", step, link, lines, outcome };
}

const clanctlSteps: JoinSteps = {
  fetch: (link) => runClanctl(["join", "--yes", "--from-desktop", "--fetch-only", "--", link], undefined),
  build: (fetched) => runClanctl(["join", "--yes", "--from-desktop", "--build-fetched=-"], JSON.stringify(fetched)),
};

/** clanctl with `input` on its stdin; its stderr (and, without a JSON answer expected, its stdout) as lines. */
function runClanctl(args: string[], input: string | undefined): JoinProcess {
  const child = spawn(process.execPath, [CLANCTL, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(input ?? "");
  const lineListeners: ((line: string) => void)[] = [];
  const emitLine = (line: string) => lineListeners.forEach((listener) => listener(line));
  // The fetch step prints its description on stdout and what a person reads on stderr.
  const collectsStdout = args.includes("--fetch-only");
  let stdout = "";
  if (collectsStdout) child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  else createInterface({ input: child.stdout }).on("line", emitLine);
  createInterface({ input: child.stderr }).on("line", emitLine);
  let spawnError: string | undefined;
  child.on("error", (error) => (spawnError = `cannot run clanctl join: ${error.message}`));
  return {
    onLine: (listener) => lineListeners.push(listener),
    onExit: (listener) => child.on("close", (code) => listener(code, spawnError, stdout)),
  };
}
