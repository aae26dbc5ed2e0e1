import { ClanError, UsageError } from "./errors.js";
import { describeUntrusted, terminalSafe } from "./untrusted-text.js";

// Entry points print a failure as one line naming its cause, not a stack trace, and exit 2 for a command line
// that does not say what to do (UsageError, or node:util parseArgs refusing one) and 1 for anything else.
export function runMain(program: string, main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // A daemon's error may quote what a guest wrote (a console tail): shown as text, never as escapes.
    process.stderr.write(`${program}: ${terminalSafe(message, { multiline: true })}\n`);
    if (!(error instanceof ClanError) && process.env.CLAN_DEBUG) console.error(error);
    process.exit(isUsageError(error) ? 2 : 1);
  });
}

function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * Called once a daemon serves. From then on an error nothing caught (a bug, most likely reached through input
 * a guest, a link or a bus peer chose) is logged and the daemon goes on serving: exiting would leave its VMs
 * running unsupervised. Before this call such an error still ends the start with Node's report and exit 1.
 */
export function keepServingAfterUnexpectedErrors(log: (message: string) => void): void {
  const report = (what: string) => (error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : describeUntrusted(error);
    log(`${what}, still serving: ${detail}`);
  };
  process.on("uncaughtException", report("unexpected error"));
  process.on("unhandledRejection", report("unexpected rejected promise"));
}
