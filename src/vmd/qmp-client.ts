import { EventEmitter } from "node:events";
import { z } from "zod";
import { ClanError } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { JsonLineConnection } from "./json-lines.js";

// QEMU Machine Protocol: a greeting, qmp_capabilities, then commands matched to replies by id, and
// asynchronous events in between.

const Greeting = z.object({
  QMP: z.object({ version: z.object({ qemu: z.object({ major: z.number(), minor: z.number(), micro: z.number() }) }).loose() }).loose(),
});
const Reply = z.union([
  z.object({ return: z.unknown(), id: z.string() }),
  z.object({ error: z.object({ class: z.string(), desc: z.string() }), id: z.string() }),
]);
export const QmpEvent = z.object({
  event: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
  timestamp: z.object({ seconds: z.number(), microseconds: z.number() }),
});
export type QmpEvent = z.infer<typeof QmpEvent>;

const RunState = z.object({ status: z.string(), running: z.boolean() }).loose();
export type RunState = z.infer<typeof RunState>;

export type QmpMessage = { kind: "event"; event: QmpEvent } | { kind: "reply"; reply: z.infer<typeof Reply> } | { kind: "ignored" };

/** What one line from QMP is; anything neither an event nor a reply to one of our ids is ignored. */
export function classifyQmpMessage(message: unknown): QmpMessage {
  const event = QmpEvent.safeParse(message);
  if (event.success) return { kind: "event", event: event.data };
  const reply = Reply.safeParse(message);
  return reply.success ? { kind: "reply", reply: reply.data } : { kind: "ignored" };
}

export class QmpCommandError extends ClanError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    description: string,
  ) {
    super("QemuFailed", `QMP ${command} failed: ${terminalSafe(errorClass, { maxChars: 100 })}: ${terminalSafe(description, { maxChars: 500 })}`);
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [];
}

const QMP_MAX_LINE = 16 * 1024 * 1024;

export class QmpClient extends EventEmitter<QmpClientEvents> {
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;

  private constructor(private readonly connection: JsonLineConnection) {
    super();
    connection.on("message", (message) => this.dispatch(message));
    connection.on("close", () => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new ClanError("Disconnected", `QMP connection closed during ${pending.command}`));
        this.pending.delete(id);
      }
      this.emit("close");
    });
  }

  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const connection = await JsonLineConnection.open(path, { maxLineBytes: QMP_MAX_LINE, timeoutMs });
    const greeting = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        connection.close();
        reject(new ClanError("Timeout", `no QMP greeting on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      connection.once("message", (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      connection.once("close", () => {
        clearTimeout(timer);
        reject(new ClanError("Disconnected", `QMP socket ${path} closed before its greeting`));
      });
    });
    if (!Greeting.safeParse(greeting).success) {
      connection.close();
      throw new ClanError("Protocol", `${path} did not greet like QMP`);
    }
    const client = new QmpClient(connection);
    try {
      await client.execute("qmp_capabilities", undefined, timeoutMs);
    } catch (error) {
      // QEMU serves one QMP client at a time: a connection left open here would keep every retry waiting.
      client.close();
      throw error;
    }
    return client;
  }

  get closed(): boolean {
    return this.connection.closed;
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClanError("Timeout", `QMP ${command} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
      try {
        this.connection.send(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  async queryStatus(timeoutMs?: number): Promise<RunState> {
    return RunState.parse(await this.execute("query-status", undefined, timeoutMs));
  }

  close(): void {
    this.connection.close();
  }

  private dispatch(message: unknown): void {
    const classified = classifyQmpMessage(message);
    if (classified.kind === "event") {
      this.emit("event", classified.event);
      return;
    }
    if (classified.kind === "ignored") return;
    const pending = this.pending.get(classified.reply.id);
    if (!pending) return;
    this.pending.delete(classified.reply.id);
    clearTimeout(pending.timer);
    if ("error" in classified.reply) {
      pending.reject(new QmpCommandError(pending.command, classified.reply.error.class, classified.reply.error.desc));
    } else {
      pending.resolve(classified.reply.return);
    }
  }
}
