import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { CommandChannel } from "./command-channel.js";
import { IpcCommandError, IpcTimeoutError } from "./errors.js";
import { EventSubscription, type SubscriptionItem } from "./event-subscription.js";
import type { EventName } from "./events/catalog.js";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./framing.js";
import type { LinkOptions } from "./link.js";
import { GET_MARKS, type GetMarksReply } from "./messages/get-marks.js";
import { GET_OUTPUTS, type GetOutputsReply } from "./messages/get-outputs.js";
import { GET_TREE, type TreeNode } from "./messages/get-tree.js";
import { GET_VERSION, type VersionReply } from "./messages/get-version.js";
import { GET_WORKSPACES, type GetWorkspacesReply } from "./messages/get-workspaces.js";
import type { MessageSpec, ReplyOf } from "./messages/message-spec.js";
import { RUN_COMMAND, type RunCommandReply } from "./messages/run-command.js";
import { SEND_TICK } from "./messages/send-tick.js";
import { parsePayload } from "./payload.js";
import { createDefaultSocketDiscovery, type SocketDiscovery } from "./socket-discovery.js";
import { windowManagerSocketAppearances, type SocketAppearanceWatch } from "./socket-watch.js";

// The i3/sway IPC client: typed requests on one command connection, event subscriptions each on a connection of
// their own, and reconnection across WM restarts for all of them (see command-channel.ts for what happens to
// requests meanwhile, event-subscription.ts for what subscribers see).

export interface IpcClientOptions {
  /** Called before every connection attempt, so it can follow a restarted sway to its new socket. */
  discover?: SocketDiscovery;
  /** A fixed socket (i3's `ipc-socket` keeps its path across restarts); used only when `discover` is absent. */
  socketPath?: string;
  /** Default time limit of a request, waiting for a reconnection included. Default 5000. */
  requestTimeoutMs?: number;
  /** Per connection attempt, SUBSCRIBE handshake included. Default 2000. */
  connectTimeoutMs?: number;
  /** Backoff between reconnection attempts; false: a lost connection stays lost. */
  reconnect?: BackoffOptions | false;
  /**
   * Where a returning WM's socket would appear, watched once quick reconnection attempts have failed. Default:
   * the fixed socket's path, or, with the default discovery, the places it looks in; none with another
   * `discover`, whose attempts then go on at the backoff's longest delay.
   */
  socketAppearances?: SocketAppearanceWatch;
  maxPayloadBytes?: number;
  /** Unread events a subscription may hold before it fails. Default 10000. */
  maxEventBacklog?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
}

export interface IpcClientEvents {
  /** The command connection dropped; `willReconnect` false means it stays down. */
  disconnected: [cause: Error, willReconnect: boolean];
  /** The command connection is back, possibly on a new socket: state read before may be stale. */
  reconnected: [socketPath: string];
  reconnectAttemptFailed: [error: Error, attempt: number, nextDelayMs: number];
}

export class IpcClient extends EventEmitter<IpcClientEvents> {
  private readonly subscriptions = new Set<EventSubscription>();
  private readonly channel: CommandChannel;
  private barrierCount = 0;

  private constructor(
    private readonly linkOptions: LinkOptions,
    private readonly requestTimeoutMs: number,
    private readonly maxEventBacklog: number,
  ) {
    super();
    this.channel = new CommandChannel(linkOptions, {
      onDown: (cause, willReconnect) => this.emit("disconnected", cause, willReconnect),
      onReconnected: (socketPath) => this.emit("reconnected", socketPath),
      onReconnectAttemptFailed: (error, attempt, nextDelayMs) => this.emit("reconnectAttemptFailed", error, attempt, nextDelayMs),
    });
  }

  /** Connects the command connection; rejects with a typed error when no WM can be reached now. */
  static async connect(options: IpcClientOptions = {}): Promise<IpcClient> {
    const fixedPath = options.socketPath;
    const linkOptions: LinkOptions = {
      discover: options.discover ?? (fixedPath !== undefined ? async () => fixedPath : createDefaultSocketDiscovery()),
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      reconnect: options.reconnect ?? DEFAULT_BACKOFF,
      socketAppearances: options.socketAppearances ?? defaultSocketAppearances(options),
    };
    const client = new IpcClient(linkOptions, options.requestTimeoutMs ?? 5000, options.maxEventBacklog ?? 10_000);
    await client.channel.open();
    return client;
  }

  /** The socket of the current command connection; undefined while reconnecting. */
  get socketPath(): string | undefined {
    return this.channel.socketPath;
  }

  /** Sends one message and validates the reply against the message's schema. */
  async request<Spec extends MessageSpec>(spec: Spec, payload = "", options: RequestOptions & { what?: string } = {}): Promise<ReplyOf<Spec>> {
    const what = options.what ?? spec.name;
    const reply = await this.channel.request({ what, type: spec.type, payload, timeoutMs: options.timeoutMs ?? this.requestTimeoutMs });
    return parsePayload<Spec["replySchema"]>(reply, spec.replySchema, `${what} reply`);
  }

  /**
   * Runs a command (or several, separated by ';' or ','). Throws IpcCommandError naming the command and the WM's
   * error text when any of them fails. Build commands with ../commands.ts: never interpolate names.
   */
  async runCommand(command: string, options: RequestOptions = {}): Promise<RunCommandReply> {
    const outcomes = await this.request(RUN_COMMAND, command, { ...options, what: `RUN_COMMAND ${JSON.stringify(command.slice(0, 200))}` });
    if (outcomes.some((outcome) => !outcome.success)) throw new IpcCommandError(command, outcomes);
    return outcomes;
  }

  getWorkspaces(options?: RequestOptions): Promise<GetWorkspacesReply> {
    return this.request(GET_WORKSPACES, "", options);
  }

  getOutputs(options?: RequestOptions): Promise<GetOutputsReply> {
    return this.request(GET_OUTPUTS, "", options);
  }

  getTree(options?: RequestOptions): Promise<TreeNode> {
    return this.request(GET_TREE, "", options);
  }

  getMarks(options?: RequestOptions): Promise<GetMarksReply> {
    return this.request(GET_MARKS, "", options);
  }

  getVersion(options?: RequestOptions): Promise<VersionReply> {
    return this.request(GET_VERSION, "", options);
  }

  /** Sends a tick: every "tick" subscriber receives `payload` after all events the WM emitted before it. */
  async tick(payload: string, options?: RequestOptions): Promise<void> {
    const reply = await this.request(SEND_TICK, payload, options);
    if (!reply.success) throw new IpcCommandError(`SEND_TICK ${JSON.stringify(payload)}`, [{ success: false, error: "tick refused" }]);
  }

  /** Opens an event subscription on a new connection of its own; closed with the client. */
  async subscribe(events: readonly EventName[]): Promise<EventSubscription> {
    const subscription = await EventSubscription.open(events, {
      ...this.linkOptions,
      maxBacklog: this.maxEventBacklog,
      onClosed: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Waits until `subscription` has received every event the WM emitted before this call, and returns the items
   * it read meanwhile (in order). The subscription must include "tick".
   */
  async barrier(subscription: EventSubscription, options: RequestOptions = {}): Promise<SubscriptionItem[]> {
    if (!subscription.events.includes("tick")) throw new TypeError('barrier() needs a subscription that includes "tick"');
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const payload = `clan-desktop-barrier-${++this.barrierCount}-${randomUUID()}`;
    await this.tick(payload, { timeoutMs });
    const before: SubscriptionItem[] = [];
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new IpcTimeoutError(`barrier tick ${payload}`, timeoutMs);
      const item = await subscription.next(remainingMs);
      if (item.kind === "tick" && item.event.payload === payload) return before;
      before.push(item);
    }
  }

  /** Closes the command connection and every subscription, timers included; pending requests fail with IpcClosedError. */
  close(): void {
    this.channel.close();
    for (const subscription of this.subscriptions) subscription.close();
  }
}

function defaultSocketAppearances(options: IpcClientOptions): SocketAppearanceWatch | undefined {
  if (options.discover) return undefined;
  // A fixed socket is i3's `ipc-socket`: watched as I3SOCK would be.
  if (options.socketPath !== undefined) return windowManagerSocketAppearances({ env: { I3SOCK: options.socketPath }, uid: undefined });
  return windowManagerSocketAppearances({ uid: process.getuid?.() });
}
