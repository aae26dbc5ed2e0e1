import { parseEventFrame, type EventName, type WmEvent } from "./events/catalog.js";
import {
  IpcClosedError,
  IpcError,
  IpcEventBacklogOverflowError,
  IpcSubscribeError,
  IpcTimeoutError,
  IpcUnexpectedFrameError,
} from "./errors.js";
import type { IpcFrame } from "./framing.js";
import type { IpcConnection } from "./connection.js";
import { Link, type LinkOptions } from "./link.js";
import { SUBSCRIBE, SubscribeReply } from "./messages/subscribe.js";
import { parsePayload } from "./payload.js";
import { traceHop } from "../../shared/hop-trace.js";

// An event stream on a connection of its own (as swayipc-rs does it): subscribing consumes the connection, so
// replies and events never share one. When the WM restarts, the subscription reconnects, subscribes again and
// yields { kind: "reconnected" }: events of the gap are lost, so the consumer re-reads the state it mirrors.

export type SubscriptionItem =
  | WmEvent
  | { readonly kind: "reconnected"; readonly socketPath: string }
  /** An event that failed its schema: reported in order, and the stream goes on. */
  | { readonly kind: "invalid-event"; readonly error: IpcError };

export interface SubscriptionOptions extends LinkOptions {
  /** Unread items beyond this fail the subscription with IpcEventBacklogOverflowError. */
  maxBacklog: number;
  onClosed?: () => void;
}

interface Waiter {
  resolve(result: IteratorResult<SubscriptionItem>): void;
  reject(error: Error): void;
}

export class EventSubscription implements AsyncIterable<SubscriptionItem> {
  private readonly link: Link;
  private readonly backlog: SubscriptionItem[] = [];
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;
  /** Set while a fresh connection waits for its SUBSCRIBE reply: the first frame must be that reply. */
  private awaitingSubscribeReply: ((error?: Error) => void) | undefined;

  private constructor(
    readonly events: readonly EventName[],
    private readonly options: SubscriptionOptions,
  ) {
    this.link = new Link(options, {
      onFrame: (frame) => this.receive(frame),
      prepare: (connection, lost) => this.subscribe(connection, lost),
      onUp: (connection, isReconnect) => {
        if (isReconnect) this.deliver({ kind: "reconnected", socketPath: connection.socketPath });
      },
      onDown: (cause, willReconnect) => {
        if (!willReconnect) this.fail(cause);
      },
      // Each failed attempt is followed by another; the consumer hears when one succeeds ("reconnected").
      onReconnectAttemptFailed: () => undefined,
    });
  }

  static async open(events: readonly EventName[], options: SubscriptionOptions): Promise<EventSubscription> {
    const subscription = new EventSubscription([...new Set(events)], options);
    await subscription.link.open();
    return subscription;
  }

  /** The next item; rejects with IpcTimeoutError after `timeoutMs`, with IpcClosedError once closed. */
  async next(timeoutMs?: number): Promise<SubscriptionItem> {
    let timer: NodeJS.Timeout | undefined;
    const result = await new Promise<IteratorResult<SubscriptionItem>>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new IpcTimeoutError(`waiting for an event (${this.events.join(", ")})`, timeoutMs));
        }, timeoutMs);
      }
      this.pull(waiter);
    }).finally(() => clearTimeout(timer));
    if (result.done) throw new IpcClosedError(`waiting for an event (${this.events.join(", ")})`);
    return result.value;
  }

  /** Iterating ends when the subscription is closed; leaving a for-await loop early closes it. */
  [Symbol.asyncIterator](): AsyncIterator<SubscriptionItem> {
    return {
      next: () => new Promise((resolve, reject) => this.pull({ resolve, reject })),
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  close(): void {
    this.link.close();
    this.options.onClosed?.();
    this.backlog.length = 0;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  private pull(waiter: Waiter): void {
    const item = this.backlog.shift();
    if (item !== undefined) waiter.resolve({ done: false, value: item });
    else if (this.failure !== undefined) waiter.reject(this.failure);
    else if (this.link.isClosed) waiter.resolve({ done: true, value: undefined });
    else this.waiters.push(waiter);
  }

  private subscribe(connection: IpcConnection, lost: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs;
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        lost.removeEventListener("abort", onLost);
        this.awaitingSubscribeReply = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      const onLost = (): void => finish(lost.reason as Error);
      const timer = setTimeout(() => finish(new IpcTimeoutError(`SUBSCRIBE on ${connection.socketPath}`, timeoutMs)), timeoutMs);
      lost.addEventListener("abort", onLost);
      this.awaitingSubscribeReply = finish;
      connection.send(SUBSCRIBE.type, JSON.stringify(this.events));
    });
  }

  private receive(frame: IpcFrame): void {
    const finishSubscribe = this.awaitingSubscribeReply;
    if (finishSubscribe !== undefined) {
      if (frame.isEvent || frame.type !== SUBSCRIBE.type) {
        finishSubscribe(new IpcUnexpectedFrameError(`expected the SUBSCRIBE reply, got a frame of type ${frame.type}`));
        return;
      }
      let reply: SubscribeReply;
      try {
        reply = parsePayload(frame.payload, SubscribeReply, "SUBSCRIBE reply");
      } catch (error) {
        finishSubscribe(error as Error);
        return;
      }
      finishSubscribe(reply.success ? undefined : new IpcSubscribeError(this.events));
      return;
    }
    traceHop?.("wm-event-read", "");
    try {
      this.deliver(parseEventFrame(frame));
    } catch (error) {
      if (error instanceof IpcUnexpectedFrameError) this.link.current?.lose(error);
      else if (error instanceof IpcError) this.deliver({ kind: "invalid-event", error });
      else throw error;
    }
  }

  private deliver(item: SubscriptionItem): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: item });
      return;
    }
    if (this.backlog.length >= this.options.maxBacklog) {
      this.fail(new IpcEventBacklogOverflowError(this.options.maxBacklog));
      return;
    }
    this.backlog.push(item);
  }

  /** Ends the stream with an error that every reader from now on receives. */
  private fail(error: Error): void {
    this.failure = error;
    this.link.close();
    this.backlog.length = 0;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
