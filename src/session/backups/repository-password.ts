import { readFile, stat } from "node:fs/promises";
import { loadExeca } from "../../shared/lazy-execa.js";
import { ClanError, errorMessage } from "../../shared/errors.js";
import type { BackupPassword } from "../config/backup-schema.js";

// The password of a restic repository, read when a restic command needs it and dropped after. It reaches restic
// only on its standard input (restic reads the first line when stdin is not a terminal), never through argv, the
// environment or a file, so no process listing, core of another program or leftover file shows it. Everything
// that may publish text from restic passes it through `scrub` first.

const COMMAND_TIMEOUT_MS = 60_000;

export interface RepositoryPassword {
  /** The password, without the line break that ends it. */
  readonly text: string;
  /** `text` with every occurrence of the password replaced, for logs, errors and D-Bus. */
  scrub(text: string): string;
}

export async function readRepositoryPassword(source: BackupPassword): Promise<RepositoryPassword> {
  const raw = "file" in source ? await readPasswordFile(source.file) : await runPasswordCommand(source.command);
  // As restic does for --password-file and --password-command: surrounding whitespace is not part of it.
  const text = raw.trim();
  if (text === "") throw new ClanError("InvalidArgument", `the backup password ${describeSource(source)} is empty`);
  if (/[\r\n]/.test(text)) {
    throw new ClanError("InvalidArgument", `the backup password ${describeSource(source)} spans several lines; restic takes one line`);
  }
  return { text, scrub: (message) => message.split(text).join("[password]") };
}

async function readPasswordFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    // The message of a read error names the path and the errno, never the content.
    throw new ClanError("InvalidArgument", `cannot read the backup password file: ${errorMessage(error)}`);
  }
}

async function runPasswordCommand(argv: string[]): Promise<string> {
  const [program, ...args] = argv as [string, ...string[]];
  const result = await (await loadExeca())(program, args, { reject: false, timeout: COMMAND_TIMEOUT_MS, stdin: "ignore", stripFinalNewline: false });
  if (result.failed) {
    // Its stdout may hold part of a password; only how it failed and its stderr are told.
    const how = result.timedOut ? `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s` : result.exitCode === undefined ? result.shortMessage : `exited with ${result.exitCode}`;
    const stderr = result.stderr.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
    throw new ClanError("InvalidArgument", `the backup password command ${JSON.stringify(program)} ${how}${stderr ? `: ${stderr}` : ""}`);
  }
  return result.stdout;
}

/** Runs `body`, and rethrows any failure with the password taken out of its message: no message about a
 *  repository reaches a log or D-Bus without passing here, whatever produced it. */
export async function scrubbingFailures<T>(password: RepositoryPassword, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = errorMessage(error);
    const scrubbed = password.scrub(message);
    if (scrubbed === message) throw error;
    throw new ClanError(error instanceof ClanError ? error.code : "BackupFailed", scrubbed);
  }
}

/** ssh's rule for private keys: a password file that other users may read (or write) is a warning, named with its
 *  fix. It is not refused, so that a backup is never lost to a mode; "" when the file is private or the password
 *  comes from a command. A file that cannot be read is left to readRepositoryPassword to name. */
export async function passwordFileWarning(source: BackupPassword): Promise<string> {
  if (!("file" in source)) return "";
  const info = await stat(source.file).catch(() => undefined);
  if (!info || (info.mode & 0o077) === 0) return "";
  const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
  return `the backup password file ${source.file} is open to other users (mode ${mode}); make it private: chmod 600 ${shellWord(source.file)}`;
}

/** The path as the user would type it in a shell, for a fix they copy. */
function shellWord(path: string): string {
  return /^[\w./+@:-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

function describeSource(source: BackupPassword): string {
  return "file" in source ? `in ${source.file}` : `printed by ${JSON.stringify(source.command[0])}`;
}
