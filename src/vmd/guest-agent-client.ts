import { randomInt } from "node:crypto";
import { z } from "zod";
import { ClanError } from "../shared/errors.js";
import { describeUntrusted, terminalSafe } from "../shared/untrusted-text.js";
import { JsonLineConnection } from "./json-lines.js";

// The QEMU guest agent speaks QMP-shaped JSON over a virtio-serial port, but with no greeting, and a port that
// buffers across guest restarts: stale replies may be waiting. guest-sync-delimited with a random id (after a
// 0xFF byte that resets the agent's parser) skips them. Commands run one at a time, because a reply only
// carries our id when the agent echoes it.

const GA_MAX_LINE = 1024 * 1024;
/** How long one guest-sync-delimited may go unanswered before it is sent again. */
const SYNC_RETRY_MS = 500;

const ErrorReply = z.object({ error: z.object({ class: z.string(), desc: z.string() }).loose() }).loose();

const SyncReply = z.object({ return: z.number() });

const GuestInfo = z.object({ version: z.string() }).loose();
export type GuestInfo = z.infer<typeof GuestInfo>;
const FreezeStatus = z.enum(["thawed", "frozen"]);
export type FreezeStatus = z.infer<typeof FreezeStatus>;

export class GuestAgentError extends ClanError {
  constructor(command: string, errorClass: string, description: string) {
    // The agent runs in the guest: what it says is quoted, bounded and terminal-safe.
    super("QemuFailed", `guest agent ${command} failed: ${terminalSafe(errorClass, { maxChars: 100 })}: ${terminalSafe(description, { maxChars: 500 })}`);
  }
}

/** The value of a guest agent reply, or a Protocol error naming the command when the guest sent something else. */
export function expectReply<T>(schema: z.ZodType<T>, value: unknown, command: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw malformedReply(command, value);
  return parsed.data;
}

/** Classifies one message that arrived as the reply to `command`: its value, or the error it carries. */
export function parseAgentReply(command: string, message: unknown): unknown {
  // Keyed on which member is present: a schema with an optional-looking `return: unknown` would let
  // {"error": 1} through as a reply whose value is undefined.
  if (typeof message === "object" && message !== null && !Array.isArray(message)) {
    if ("error" in message) {
      const { error } = expectReply(ErrorReply, message, command);
      throw new GuestAgentError(command, error.class, error.desc);
    }
    if ("return" in message) return message.return;
  }
  throw malformedReply(command, message);
}

function malformedReply(command: string, message: unknown): ClanError {
  return new ClanError("Protocol", `guest agent sent a malformed reply to ${command}: ${describeUntrusted(message, { maxChars: 120 })}`);
}

export class GuestAgentClient {
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when a command went unanswered: its reply may still come and must not be taken for the next one's. */
  private replyMayBeStale = false;

  private constructor(private readonly connection: JsonLineConnection) {}

  static async connect(path: string, timeoutMs = 5000): Promise<GuestAgentClient> {
    const connection = await JsonLineConnection.open(path, { maxLineBytes: GA_MAX_LINE, timeoutMs });
    const client = new GuestAgentClient(connection);
    try {
      await client.synchronise(timeoutMs);
    } catch (error) {
      connection.close();
      throw error;
    }
    return client;
  }

  get closed(): boolean {
    return this.connection.closed;
  }

  close(): void {
    this.connection.close();
  }

  ping(timeoutMs?: number): Promise<void> {
    return this.execute("guest-ping", undefined, timeoutMs).then(() => undefined);
  }

  async info(timeoutMs?: number): Promise<GuestInfo> {
    return expectReply(GuestInfo, await this.execute("guest-info", undefined, timeoutMs), "guest-info");
  }

  async freezeStatus(timeoutMs?: number): Promise<FreezeStatus> {
    return expectReply(FreezeStatus, await this.execute("guest-fsfreeze-status", undefined, timeoutMs), "guest-fsfreeze-status");
  }

  async freeze(timeoutMs?: number): Promise<number> {
    return expectReply(z.number(), await this.execute("guest-fsfreeze-freeze", undefined, timeoutMs), "guest-fsfreeze-freeze");
  }

  async thaw(timeoutMs?: number): Promise<number> {
    return expectReply(z.number(), await this.execute("guest-fsfreeze-thaw", undefined, timeoutMs), "guest-fsfreeze-thaw");
  }

  /** Runs one command after the previous one has been answered. */
  execute(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    const run = this.queue.then(
      () => this.exchange(command, args, timeoutMs),
      () => this.exchange(command, args, timeoutMs),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends guest-sync-delimited with a fresh id until the reply with that id arrives, skipping stale replies on
   * the way. One request is not enough: right after the host side of the port reopens, a request is lost
   * outright (never answered, even after 20 s) in about one reconnect in four on these machines, and now and then
   * for seconds on end (once 8.5 s in 150 quick reconnects of a quiet machine), so it is asked again until one is
   * answered.
   */
  private async synchronise(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const id = randomInt(1, 2 ** 31);
      this.connection.sendRaw(Buffer.from([0xff]));
      this.connection.send({ execute: "guest-sync-delimited", arguments: { id } });
      if (await this.syncReplyArrives(id, Math.min(deadline, Date.now() + SYNC_RETRY_MS))) return;
    }
    throw new ClanError("Timeout", `guest agent did not answer guest-sync-delimited within ${timeoutMs} ms`);
  }

  private async syncReplyArrives(id: number, until: number): Promise<boolean> {
    for (;;) {
      const next = await this.nextMessage(until - Date.now(), "guest-sync-delimited");
      if (!next) return false;
      const reply = SyncReply.safeParse(next.message);
      if (reply.success && reply.data.return === id) return true;
    }
  }

  private async exchange(command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<unknown> {
    if (this.replyMayBeStale) {
      await this.synchronise(timeoutMs);
      this.replyMayBeStale = false;
    }
    this.connection.send(args === undefined ? { execute: command } : { execute: command, arguments: args });
    const next = await this.nextMessage(timeoutMs, command);
    if (!next) {
      this.replyMayBeStale = true;
      throw new ClanError("Timeout", `guest agent did not answer ${command} within ${timeoutMs} ms`);
    }
    return parseAgentReply(command, next.message);
  }

  /** The next message, or undefined when none arrives in time; rejects when the connection closes. */
  private nextMessage(timeoutMs: number, command: string): Promise<{ message: unknown } | undefined> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        cleanup();
        resolve({ message });
      };
      const onClose = () => {
        cleanup();
        reject(new ClanError("Disconnected", `guest agent connection closed during ${command}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(undefined);
      }, Math.max(0, timeoutMs));
      const cleanup = () => {
        clearTimeout(timer);
        this.connection.off("message", onMessage);
        this.connection.off("close", onClose);
      };
      this.connection.on("message", onMessage);
      this.connection.on("close", onClose);
    });
  }
}
