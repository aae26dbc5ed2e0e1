import {
  IpcClosedError,
  IpcConnectionLostError,
  IpcNotConnectedError,
  IpcTimeoutError,
  IpcUnexpectedFrameError,
} from "./errors.js";
import type { IpcFrame } from "./framing.js";
import { Link, type LinkOptions } from "./link.js";

// The command connection: requests go out one at a time, in the order they were made, and each reply is matched
// to the request in flight by order and type. It never subscribes, so no event can come between.
//
// While the WM is away (restarting), new and queued requests wait for the link to come back, each within its
// own time limit; when that runs out they fail with IpcNotConnectedError. A request already sent when the
// connection drops fails with IpcConnectionLostError and is not resent: the WM may have carried it out. Only a
// request whose write the socket refused (the WM had hung up first) is known unseen, and is sent again.

export interface ChannelRequest {
  /** Names the request in errors: the message name and, for commands, the command. */
  readonly what: string;
  readonly type: number;
  readonly payload: string;
  readonly timeoutMs: number;
}

interface PendingRequest extends ChannelRequest {
  sent: boolean;
  timer: NodeJS.Timeout;
  resolve(payload: Buffer): void;
  reject(error: Error): void;
}

export interface ChannelListener {
  onDown(cause: Error, willReconnect: boolean): void;
  onReconnected(socketPath: string): void;
  onReconnectAttemptFailed(error: Error, attempt: number, nextDelayMs: number): void;
}

export class CommandChannel {
  private readonly link: Link;
  private readonly queue: PendingRequest[] = [];
  private lastDownCause: Error | undefined;

  constructor(options: LinkOptions, listener: ChannelListener) {
    this.link = new Link(options, {
      onFrame: (frame) => this.receive(frame),
      prepare: async () => undefined,
      onUp: (connection, isReconnect) => {
        if (isReconnect) listener.onReconnected(connection.socketPath);
        this.sendNext();
      },
      onDown: (cause, willReconnect) => {
        this.lastDownCause = cause;
        this.connectionDropped(cause, willReconnect);
        listener.onDown(cause, willReconnect);
      },
      onReconnectAttemptFailed: (error, attempt, nextDelayMs) => {
        this.lastDownCause = error;
        listener.onReconnectAttemptFailed(error, attempt, nextDelayMs);
      },
    });
  }

  /** The first connection; rejects with a typed error when the WM cannot be reached now. */
  open(): Promise<void> {
    return this.link.open();
  }

  get socketPath(): string | undefined {
    return this.link.current?.socketPath;
  }

  request(request: ChannelRequest): Promise<Buffer> {
    if (this.link.isClosed) return Promise.reject(new IpcClosedError(request.what));
    if (this.link.current === undefined && !this.link.isReconnecting) {
      return Promise.reject(new IpcNotConnectedError(`${request.what}: the connection to the window manager is lost`, { cause: this.lastDownCause }));
    }
    return new Promise((resolve, reject) => {
      const pending: PendingRequest = {
        ...request,
        sent: false,
        timer: setTimeout(() => this.expire(pending), request.timeoutMs),
        resolve,
        reject,
      };
      this.queue.push(pending);
      this.sendNext();
    });
  }

  close(): void {
    this.link.close();
    for (const pending of this.queue.splice(0)) this.settle(pending, new IpcClosedError(pending.what));
  }

  private sendNext(): void {
    const head = this.queue[0];
    const connection = this.link.current;
    if (head === undefined || head.sent || connection === undefined) return;
    head.sent = true;
    connection.send(head.type, head.payload);
  }

  private receive(frame: IpcFrame): void {
    const head = this.queue[0];
    if (frame.isEvent || head === undefined || !head.sent || frame.type !== head.type) {
      const expected = head?.sent ? `a reply of type ${head.type}` : "nothing";
      const got = `${frame.isEvent ? "an event" : "a reply"} of type ${frame.type}`;
      this.link.current?.lose(new IpcUnexpectedFrameError(`command connection got ${got}, expected ${expected}`));
      return;
    }
    this.queue.shift();
    this.settle(head, undefined, frame.payload);
    this.sendNext();
  }

  private expire(pending: PendingRequest): void {
    const index = this.queue.indexOf(pending);
    if (index < 0) return;
    this.queue.splice(index, 1);
    if (pending.sent) {
      const error = new IpcTimeoutError(pending.what, pending.timeoutMs);
      pending.reject(error);
      // A reply may still come and would be taken for the next request's: start over on a fresh connection.
      this.link.current?.lose(error);
    } else if (this.link.current === undefined) {
      pending.reject(
        new IpcNotConnectedError(`${pending.what} waited ${pending.timeoutMs} ms for the window manager to come back`, {
          cause: this.lastDownCause,
        }),
      );
    } else {
      pending.reject(new IpcTimeoutError(`${pending.what} (queued behind other requests)`, pending.timeoutMs));
    }
  }

  private connectionDropped(cause: Error, willReconnect: boolean): void {
    const head = this.queue[0];
    if (head?.sent && cause instanceof IpcConnectionLostError && cause.writeFailed) {
      // The WM had already hung up when we wrote: it never saw the request, which waits for the next connection.
      head.sent = false;
    } else if (head?.sent) {
      this.queue.shift();
      this.settle(head, new IpcConnectionLostError(`${head.what} was sent but the connection dropped before the reply: ${cause.message}`, { cause }));
    }
    if (!willReconnect) {
      for (const pending of this.queue.splice(0)) {
        this.settle(pending, new IpcNotConnectedError(`${pending.what}: the connection to the window manager is lost`, { cause }));
      }
    }
  }

  private settle(pending: PendingRequest, error: Error | undefined, payload?: Buffer): void {
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(payload ?? Buffer.alloc(0));
  }
}
