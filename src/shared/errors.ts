// Typed errors that cross module boundaries. Each carries a stable `code` so that the D-Bus layer can map it to
// a D-Bus error name and the CLI can print it without a stack trace.

export type ErrorCode =
  | "InvalidArgument"
  | "UnknownNetwork"
  | "InvalidGeneration"
  | "QemuFailed"
  | "Timeout"
  | "Protocol"
  | "Disconnected"
  | "InvalidState"
  | "Busy"
  | "NotFound"
  | "BuildFailed"
  | "BackupFailed"
  | "NetworkFailed"
  /** A generation asks for a host directory the user has not granted (docs/config.md, grants). */
  | "NotGranted"
  /** A generation asks for more memory or cores than this host allows a network. */
  | "OverLimit";

export class ClanError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `ClanError(${code})`;
  }
}

/** A command line that does not say what to do (unknown command or option, missing or extra argument): exit 2. */
export class UsageError extends ClanError {
  constructor(message: string) {
    super("InvalidArgument", message);
    this.name = "UsageError";
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
