import { execa, type ResultPromise } from "execa";
import { REPO, waitUntil } from "./daemons.js";
import { stopProcess } from "./processes.js";

// bin/clan-bar-relay run by the test itself, as a bar would run it: its stdout read line by line as it is
// written, click events written to its stdin (a pipe, as bars give it).

export interface BarProcess {
  process: ResultPromise;
  /** Every line written so far, in order. */
  readonly lines: readonly string[];
  stderr(): string;
  /** Writes one click event line (the bar's stream: "[" first, then events with leading commas). */
  click(event: Record<string, unknown>): void;
  /** Resolves with the first line from index `from` on that satisfies `predicate`. */
  waitForLine(predicate: (line: string) => boolean, what: string, from?: number, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export const BAR_RELAY = `${REPO}/bin/clan-bar-relay`;

/** The relay for `format`, showing every network or only `network`; `env` says where clan-sessiond's socket is. */
export function spawnBar(format: "i3bar" | "waybar" | "i3blocks", network: string | undefined, env: Record<string, string>): BarProcess {
  const args = network === undefined ? [format] : [format, network];
  const child = execa(BAR_RELAY, args, { env: { ...process.env, ...env }, reject: false, stdin: "pipe" });
  const lines: string[] = [];
  let pending = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (pending + chunk).split("\n");
    pending = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  let clicks = 0;
  return {
    process: child,
    lines,
    stderr: () => stderr,
    click(event) {
      child.stdin.write(`${clicks++ === 0 ? "[\n" : ","}${JSON.stringify(event)}\n`);
    },
    async waitForLine(predicate, what, from = 0, timeoutMs = 15_000) {
      try {
        return await waitUntil(() => {
          if (child.exitCode !== null) throw new Error(`clan-bar-relay exited (${child.exitCode})`);
          return lines.slice(from).find(predicate);
        }, what, timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}\nlines:\n${lines.join("\n")}\nstderr:\n${stderr}`);
      }
    },
    stop: () => stopProcess(child),
  };
}
