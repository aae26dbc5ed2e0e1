import { ClanError } from "./errors.js";

// Entry points print a failure as one line naming its cause, not a stack trace, and exit non-zero.
export function runMain(program: string, main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${program}: ${message}\n`);
    if (!(error instanceof ClanError) && process.env.CLAN_DEBUG) console.error(error);
    process.exit(error instanceof ClanError && error.code === "InvalidArgument" ? 2 : 1);
  });
}
