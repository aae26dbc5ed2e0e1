// Typed errors of the i3/sway IPC client. Every one carries a stable `code` so callers can branch on the cause
// (retry, resync, report) without parsing messages.

export type IpcErrorCode =
  | "FRAME_TOO_LARGE"
  | "BAD_MAGIC"
  | "UNEXPECTED_FRAME"
  | "INVALID_REPLY"
  | "TIMEOUT"
  | "CONNECT_FAILED"
  | "CONNECTION_LOST"
  | "NOT_CONNECTED"
  | "CLOSED"
  | "COMMAND_FAILED"
  | "SOCKET_NOT_FOUND"
  | "SUBSCRIBE_FAILED"
  | "EVENT_BACKLOG_OVERFLOW";

export abstract class IpcError extends Error {
  abstract readonly code: IpcErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A frame announced a payload larger than the limit: the stream cannot be trusted past this point. */
export class IpcFrameTooLargeError extends IpcError {
  readonly code = "FRAME_TOO_LARGE";
  constructor(
    readonly payloadBytes: number,
    readonly maxPayloadBytes: number,
  ) {
    super(`IPC frame announces ${payloadBytes} payload bytes, more than the limit of ${maxPayloadBytes}`);
  }
}

/** The bytes on the socket are not i3 IPC frames (or the decoder lost sync). */
export class IpcBadMagicError extends IpcError {
  readonly code = "BAD_MAGIC";
  constructor(readonly received: Buffer) {
    super(`IPC frame does not start with "i3-ipc" (got ${JSON.stringify(received.toString("latin1"))})`);
  }
}

/** A frame arrived that the connection did not ask for (an event on a command connection, a reply out of turn). */
export class IpcUnexpectedFrameError extends IpcError {
  readonly code = "UNEXPECTED_FRAME";
}

/** A reply or event did not match its schema, or was not JSON. */
export class IpcInvalidReplyError extends IpcError {
  readonly code = "INVALID_REPLY";
  constructor(
    readonly what: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid ${what}: ${message}`, options);
  }
}

export class IpcTimeoutError extends IpcError {
  readonly code = "TIMEOUT";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} got no answer within ${timeoutMs} ms`);
  }
}

export class IpcConnectFailedError extends IpcError {
  readonly code = "CONNECT_FAILED";
  constructor(
    readonly socketPath: string,
    options: { cause: unknown },
  ) {
    super(`cannot connect to the window manager's IPC socket ${socketPath}: ${describeCause(options.cause)}`, options);
  }
}

/**
 * The connection ended. For a request in flight, whether the WM carried it out is unknown, so it is not retried —
 * unless `writeFailed`: the socket refused the write (EPIPE), so the WM never read the request.
 */
export class IpcConnectionLostError extends IpcError {
  readonly code = "CONNECTION_LOST";
  readonly writeFailed: boolean;

  constructor(message: string, options?: { cause?: unknown; writeFailed?: boolean }) {
    super(message, options);
    this.writeFailed = options?.writeFailed ?? false;
  }
}

/** A request waited for a connection (the WM restarting, or gone) and its time limit ran out first. */
export class IpcNotConnectedError extends IpcError {
  readonly code = "NOT_CONNECTED";
}

export class IpcClosedError extends IpcError {
  readonly code = "CLOSED";
  constructor(what: string) {
    super(`${what}: the IPC client was closed`);
  }
}

export interface CommandOutcome {
  readonly success: boolean;
  readonly error?: string | undefined;
}

/** RUN_COMMAND answered success=false for at least one of the commands. */
export class IpcCommandError extends IpcError {
  readonly code = "COMMAND_FAILED";
  constructor(
    readonly command: string,
    readonly outcomes: readonly CommandOutcome[],
  ) {
    const errors = outcomes.filter((outcome) => !outcome.success).map((outcome) => outcome.error ?? "no error text");
    super(`window manager refused ${JSON.stringify(command)}: ${errors.join("; ")}`);
  }
}

export class IpcSocketNotFoundError extends IpcError {
  readonly code = "SOCKET_NOT_FOUND";
  constructor(readonly attempts: readonly string[]) {
    super(`no i3/sway IPC socket found (${attempts.join("; ")})`);
  }
}

export class IpcSubscribeError extends IpcError {
  readonly code = "SUBSCRIBE_FAILED";
  constructor(readonly events: readonly string[]) {
    super(`the window manager refused to subscribe to ${events.join(", ")}`);
  }
}

/** The consumer of an event subscription fell so far behind that the backlog reached its limit. */
export class IpcEventBacklogOverflowError extends IpcError {
  readonly code = "EVENT_BACKLOG_OVERFLOW";
  constructor(readonly limit: number) {
    super(`more than ${limit} unread IPC events: the subscription was closed`);
  }
}

export function describeCause(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
