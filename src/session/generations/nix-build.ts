import { execa } from "execa";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";

// `nix build` of a network's generation, with progress and a log as it runs. Nix's internal-json log format is
// the structured form of what `nix build` shows on a terminal: activities start and stop, and "actBuilds"
// activities report [done, expected, running, failed] counts, which become the published progress.

const NIX = ["--extra-experimental-features", "nix-command flakes"];
const ACT_BUILDS = 104;
const RES_BUILD_LOG_LINE = 101;
const RES_PROGRESS = 105;

const LogEvent = z.union([
  z.object({ action: z.literal("start"), id: z.number(), type: z.number(), text: z.string().optional() }).loose(),
  z.object({ action: z.literal("result"), id: z.number(), type: z.number(), fields: z.array(z.unknown()) }).loose(),
  z.object({ action: z.literal("msg"), msg: z.string(), level: z.number() }).loose(),
  z.object({ action: z.literal("stop"), id: z.number() }).loose(),
]);

const BuildOutput = z.array(z.object({ outputs: z.object({ out: z.string().startsWith("/nix/store/") }).loose() }).loose()).min(1);
const FlakeMetadata = z.object({ revision: z.string().optional(), lastModified: z.number().optional(), url: z.string().optional() }).loose();

export interface BuildProgress {
  /** 0..1 */
  fraction: number;
  message: string;
}

export interface BuildCallbacks {
  progress: (progress: BuildProgress) => void;
  log: (line: string) => void;
}

/** Builds `installable` (a flake reference with its attribute) and returns the store path of its output. */
export async function buildGeneration(installable: string, callbacks: BuildCallbacks, signal?: AbortSignal): Promise<string> {
  const build = execa("nix", [...NIX, "build", "--no-link", "--json", "--log-format", "internal-json", installable], {
    reject: false,
    cancelSignal: signal,
  });
  const buildActivities = new Set<number>();
  // Nix's own "error: …" message says which builder failed, and the builder's last lines say why: the failure
  // carries both, so that whoever sees it (clanctl, a notification) need not look for the build log.
  let nixError = "";
  const builderTail: string[] = [];
  const logging: BuildCallbacks & { builderLine: (line: string) => void } = {
    progress: callbacks.progress,
    log: (line) => {
      if (line.startsWith("error:")) nixError = line;
      callbacks.log(line);
    },
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
    for (const line of lines) handleLogLine(line, buildActivities, logging);
  });
  const result = await build;
  if (result.isCanceled) throw new ClanError("BuildFailed", `build of ${installable} was cancelled`);
  if (result.exitCode !== 0) {
    const output = builderTail.length > 0 ? `; its last output: ${builderTail.join(" / ")}` : "";
    const why = nixError ? `: ${nixError.slice(0, 600)}${output}` : output;
    throw new ClanError("BuildFailed", `nix build ${installable} failed (exit ${result.exitCode})${why}; the build log has the rest`);
  }
  const parsed = BuildOutput.safeParse(JSON.parse(result.stdout || "null"));
  if (!parsed.success) throw new ClanError("Protocol", `nix build ${installable} printed no store path`);
  callbacks.progress({ fraction: 1, message: "built" });
  return parsed.data[0]!.outputs.out;
}

function handleLogLine(line: string, buildActivities: Set<number>, callbacks: BuildCallbacks & { builderLine: (line: string) => void }): void {
  if (!line.startsWith("@nix ")) {
    if (line.trim()) callbacks.log(stripAnsi(line));
    return;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(5));
  } catch {
    callbacks.log(line);
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

export interface SourceRevision {
  revision: string;
  lastModified: number;
}

/** The revision a flake reference resolves to now (git commit, or the content hash of a plain path). */
export async function sourceRevision(flakeReference: string): Promise<SourceRevision> {
  const result = await execa("nix", [...NIX, "flake", "metadata", "--json", flakeReference], { reject: false });
  if (result.exitCode !== 0) throw new ClanError("BuildFailed", `cannot read flake ${flakeReference}: ${result.stderr.trim().split("\n").at(-1)}`);
  const metadata = FlakeMetadata.parse(JSON.parse(result.stdout));
  const locked = z.object({ locked: z.object({ narHash: z.string().optional() }).loose().optional() }).loose().parse(JSON.parse(result.stdout));
  return { revision: metadata.revision ?? locked.locked?.narHash ?? "unknown", lastModified: (metadata.lastModified ?? 0) * 1000 };
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
