import { loadExeca } from "../../shared/lazy-execa.js";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import { terminalSafe } from "../../shared/untrusted-text.js";

// `nix build` of a network's generation, with progress and a log as it runs. Nix's internal-json log format is
// the structured form of what `nix build` shows on a terminal: activities start and stop, and "actBuilds"
// activities report [done, expected, running, failed] counts, which become the published progress.

const NIX = ["--extra-experimental-features", "nix-command flakes"];

/**
 * A network's flake is evaluated with no access beyond its own source and its locked inputs: pure evaluation
 * (no absolute paths, environment, search path or `builtins.storePath`), restricted evaluation (no URI but
 * the locked inputs', so no eval-time `fetchurl file://…`, `fetchTree { type = "path"; … }` or `fetchGit` over
 * ssh, which copy into the store before any hash check), no import from derivation, no `nixConfig` from the
 * flake, and builds only in the sandbox. `--impure` is never passed.
 */
function confinedEvaluation(inputUrls: readonly string[]): string[] {
  const options: [string, string][] = [
    ["pure-eval", "true"],
    ["restrict-eval", "true"],
    ["allowed-uris", inputUrls.join(" ")],
    ["allow-import-from-derivation", "false"],
    ["accept-flake-config", "false"],
    ["sandbox", "true"],
    ["sandbox-fallback", "false"],
  ];
  return options.flatMap(([name, value]) => ["--option", name, value]);
}
const ACT_BUILDS = 104;
const RES_BUILD_LOG_LINE = 101;
const RES_PROGRESS = 105;
const MAX_LOG_LINE_CHARS = 4096;

const LogEvent = z.union([
  z.object({ action: z.literal("start"), id: z.number(), type: z.number(), text: z.string().optional() }).loose(),
  z.object({ action: z.literal("result"), id: z.number(), type: z.number(), fields: z.array(z.unknown()) }).loose(),
  z.object({ action: z.literal("msg"), msg: z.string(), level: z.number() }).loose(),
  z.object({ action: z.literal("stop"), id: z.number() }).loose(),
]);

const BuildOutput = z.array(z.object({ outputs: z.object({ out: z.string().startsWith("/nix/store/") }).loose() }).loose()).min(1);

export interface BuildProgress {
  /** 0..1 */
  fraction: number;
  message: string;
}

export interface BuildCallbacks {
  progress: (progress: BuildProgress) => void;
  log: (line: string) => void;
}

/**
 * Builds `installable` (a flake reference pinned by checkSource, with its attribute) with evaluation confined to
 * the source and the inputs at `inputUrls`, and returns the store path of its output.
 */
export async function buildGeneration(installable: string, inputUrls: readonly string[], callbacks: BuildCallbacks, signal?: AbortSignal): Promise<string> {
  const arguments_ = [...NIX, ...confinedEvaluation(inputUrls), "build", "--no-write-lock-file", "--no-link", "--json", "--log-format", "internal-json", installable];
  // An empty NIX_PATH: restricted evaluation would otherwise allow what the user's search path names.
  const build = (await loadExeca())("nix", arguments_, { reject: false, cancelSignal: signal, env: { NIX_PATH: "" } });
  const buildActivities = new Set<number>();
  const errors: string[] = [];
  // The builder's last lines say why it failed: the failure carries them, so that whoever sees it (clanctl, a
  // notification) need not look for the build log.
  const builderTail: string[] = [];
  const logging: BuildCallbacks & { builderLine: (line: string) => void } = {
    ...callbacks,
    builderLine: (line) => {
      builderTail.push(line.slice(0, 200));
      if (builderTail.length > 3) builderTail.shift();
    },
  };
  let pending = "";
  build.stderr?.setEncoding("utf8");
  build.stderr?.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) handleLogLine(line, buildActivities, logging, errors);
  });
  const result = await build;
  if (result.isCanceled) throw new ClanError("BuildFailed", `build of ${installable} was cancelled`);
  if (result.exitCode !== 0) {
    // Nix's own error (an evaluation refused, a builder failed) says why; the builder's last lines and the build
    // log have the rest.
    const cause = errors.at(-1)?.split("\n").find((line) => line.includes("error:"))?.trim().slice(0, 600);
    const output = builderTail.length > 0 ? `; its last output: ${builderTail.join(" / ")}` : "";
    throw new ClanError("BuildFailed", `nix build ${installable} failed (exit ${result.exitCode})${cause ? `: ${cause}` : ""}${output}; the build log has the rest`);
  }
  const parsed = BuildOutput.safeParse(JSON.parse(result.stdout || "null"));
  if (!parsed.success) throw new ClanError("Protocol", `nix build ${installable} printed no store path`);
  callbacks.progress({ fraction: 1, message: "built" });
  return parsed.data[0]!.outputs.out;
}

const LEVEL_ERROR = 0;

function handleLogLine(line: string, buildActivities: Set<number>, callbacks: BuildCallbacks & { builderLine: (line: string) => void }, errors: string[]): void {
  if (!line.startsWith("@nix ")) {
    if (line.trim()) callbacks.log(stripAnsi(line));
    return;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(5));
  } catch {
    callbacks.log(stripAnsi(line));
    return;
  }
  const event = LogEvent.safeParse(raw);
  if (!event.success) return;
  const data = event.data;
  if (data.action === "start") {
    if (data.type === ACT_BUILDS) buildActivities.add(data.id);
    if (data.text) callbacks.log(stripAnsi(data.text));
  } else if (data.action === "msg") {
    callbacks.log(stripAnsi(data.msg));
    const text = stripAnsi(data.msg);
    if (data.level === LEVEL_ERROR && text.includes("error:")) errors.push(text);
  } else if (data.action === "result" && data.type === RES_BUILD_LOG_LINE && typeof data.fields[0] === "string") {
    callbacks.log(stripAnsi(data.fields[0]));
    callbacks.builderLine(stripAnsi(data.fields[0]));
  } else if (data.action === "result" && data.type === RES_PROGRESS && buildActivities.has(data.id)) {
    const [done, expected, running] = data.fields.map(Number);
    if (expected && expected > 0) {
      callbacks.progress({ fraction: Math.min(1, (done ?? 0) / expected), message: `built ${done} of ${expected}, ${running ?? 0} running` });
    }
  }
}

/** A build log line as text: colours dropped, any other escape or control shown escaped, length bounded. */
function stripAnsi(text: string): string {
  return terminalSafe(text.replace(/\u001b\[[0-9;]*m/g, ""), { multiline: true, maxChars: MAX_LOG_LINE_CHARS });
}
