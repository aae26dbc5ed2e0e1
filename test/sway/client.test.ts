import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IpcClient, type IpcClientOptions } from "../../src/sway/ipc/client.js";
import {
  IpcClosedError,
  IpcConnectionLostError,
  IpcEventBacklogOverflowError,
  IpcFrameTooLargeError,
  IpcNotConnectedError,
  IpcSubscribeError,
  IpcTimeoutError,
  IpcUnexpectedFrameError,
} from "../../src/sway/ipc/errors.js";
import { encodeFrame } from "../../src/sway/ipc/framing.js";
import { GET_VERSION } from "../../src/sway/ipc/messages/get-version.js";
import { SUBSCRIBE } from "../../src/sway/ipc/messages/subscribe.js";
import { FakeWmServer } from "./fake-wm-server.js";

// The client's own rules (ordering, time limits, resync, backlog) against a scripted FAKE WM; its behaviour with
// real sway and i3 is in ipc.e2e.test.ts.

const VERSION = JSON.stringify({ major: 4, minor: 22, patch: 0, human_readable: "4.22", loaded_config_file_name: "/c" });
const TICK = 7;

let fake: FakeWmServer;
let client: IpcClient | undefined;

const connect = async (options: IpcClientOptions = {}): Promise<IpcClient> => {
  client = await IpcClient.connect({ socketPath: fake.socketPath, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
  return client;
};

beforeEach(async () => {
  fake = await FakeWmServer.start();
  fake.respond = ({ type }) => (type === GET_VERSION.type ? VERSION : type === SUBSCRIBE.type ? '{"success":true}' : "[]");
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await fake.stop();
});

describe("IpcClient command connection", () => {
  it("has one request in flight at a time and gives each caller its own reply", async () => {
    let answered = 0;
    const inFlightAtArrival: number[] = [];
    fake.respond = ({ type, connection }) => {
      inFlightAtArrival.push(fake.requests.length - 1 - answered);
      setTimeout(() => {
        answered++;
        connection.write(encodeFrame(type, type === GET_VERSION.type ? VERSION : "[]"));
      }, 5);
      return undefined;
    };
    const ipc = await connect();
    const [version, workspaces, marks] = await Promise.all([ipc.getVersion(), ipc.getWorkspaces(), ipc.getMarks()]);
    expect(version.major).toBe(4);
    expect(workspaces).toEqual([]);
    expect(marks).toEqual([]);
    expect(inFlightAtArrival).toEqual([0, 0, 0]);
    expect(fake.requests.map((request) => request.type)).toEqual([7, 1, 5]);
  });

  it("fails a request unanswered in time with IpcTimeoutError, then resyncs on a fresh connection", async () => {
    fake.respond = ({ type }) => (fake.requests.length === 1 ? undefined : type === GET_VERSION.type ? VERSION : "[]");
    const ipc = await connect();
    await expect(ipc.getVersion({ timeoutMs: 50 })).rejects.toBeInstanceOf(IpcTimeoutError);
    expect((await ipc.getVersion()).major).toBe(4);
    const [first, second] = fake.requests;
    expect(first?.connection).not.toBe(second?.connection);
  });

  it("drops the connection on a reply of the wrong type: the request fails with IpcConnectionLostError", async () => {
    fake.respond = ({ connection }) => {
      connection.write(encodeFrame(99, "{}"));
      return undefined;
    };
    const ipc = await connect();
    const error = await ipc.getVersion().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IpcConnectionLostError);
    expect((error as Error).cause).toBeInstanceOf(IpcUnexpectedFrameError);
  });

  it("drops the connection when a frame announces a payload over the limit", async () => {
    fake.respond = ({ connection }) => {
      fake.sendRaw(connection, encodeFrame(GET_VERSION.type, "x".repeat(1024)).subarray(0, 14));
      return undefined;
    };
    const ipc = await connect({ maxPayloadBytes: 512 });
    const error = await ipc.getVersion().catch((caught: unknown) => caught);
    expect((error as Error).cause).toBeInstanceOf(IpcFrameTooLargeError);
  });

  it("keeps requests made while the WM is away and sends them when it is back", async () => {
    const ipc = await connect();
    const reconnected = new Promise<string>((resolve) => ipc.once("reconnected", resolve));
    await fake.shutDown();
    const version = ipc.getVersion({ timeoutMs: 3000 });
    await sleep(100);
    await fake.listen();
    expect((await version).major).toBe(4);
    expect(await reconnected).toBe(fake.socketPath);
  });

  it("stops trying after six quick attempts while the WM is away, and comes back when its socket appears", async () => {
    const ipc = await connect();
    let failedAttempts = 0;
    let sixthFailure: () => void = () => undefined;
    const sixFailed = new Promise<void>((resolve) => (sixthFailure = resolve));
    ipc.on("reconnectAttemptFailed", () => {
      if (++failedAttempts === 6) sixthFailure();
    });
    const reconnected = new Promise<string>((resolve) => ipc.once("reconnected", resolve));
    await fake.shutDown();
    await sixFailed;
    // With the old loop, an attempt every 50 ms: 20 more in this second.
    await sleep(1000);
    expect(failedAttempts).toBe(6);
    await fake.listen();
    expect(await reconnected).toBe(fake.socketPath);
    expect((await ipc.getVersion()).major).toBe(4);
  });

  it("fails a waiting request with IpcNotConnectedError once its time limit passes", async () => {
    const ipc = await connect();
    await fake.shutDown();
    await expect(ipc.getVersion({ timeoutMs: 100 })).rejects.toBeInstanceOf(IpcNotConnectedError);
  });

  it("with reconnect: false, fails requests after the connection is lost", async () => {
    const ipc = await connect({ reconnect: false });
    const disconnected = new Promise<boolean>((resolve) => ipc.once("disconnected", (_cause, willReconnect) => resolve(willReconnect)));
    await fake.shutDown();
    expect(await disconnected).toBe(false);
    await expect(ipc.getVersion()).rejects.toBeInstanceOf(IpcNotConnectedError);
  });

  it("close() fails pending requests with IpcClosedError and closes every connection", async () => {
    fake.respond = () => undefined;
    const ipc = await connect({ connectTimeoutMs: 100 });
    const events = await ipc.subscribe(["tick"]).catch(() => undefined);
    expect(events).toBeUndefined(); // the silent fake never answers SUBSCRIBE: it fails by its time limit
    const pending = ipc.getVersion({ timeoutMs: 60_000 });
    ipc.close();
    await expect(pending).rejects.toBeInstanceOf(IpcClosedError);
    await expect(ipc.getVersion()).rejects.toBeInstanceOf(IpcClosedError);
    await sleep(20);
    expect(fake.connections.size).toBe(0);
  });
});

describe("EventSubscription", () => {
  it("yields events in order, reports one that fails its schema as invalid-event, and goes on", async () => {
    const ipc = await connect();
    const events = await ipc.subscribe(["tick"]);
    const connection = fake.requests.find((request) => request.type === SUBSCRIBE.type)?.connection;
    if (!connection) throw new Error("no SUBSCRIBE reached the fake");
    expect(JSON.parse(fake.requests.at(-1)?.payload ?? "")).toEqual(["tick"]);
    fake.sendEvent(connection, TICK, '{"first":false,"payload":"one"}');
    fake.sendEvent(connection, TICK, '{"first":"not a boolean"}');
    fake.sendEvent(connection, TICK, "not json");
    fake.sendEvent(connection, TICK, '{"first":false,"payload":"two"}');
    const kinds = [];
    for (let index = 0; index < 4; index++) {
      const item = await events.next(1000);
      kinds.push(item.kind === "tick" ? `tick:${item.event.payload}` : item.kind);
    }
    expect(kinds).toEqual(["tick:one", "invalid-event", "invalid-event", "tick:two"]);
  });

  it("fails with IpcEventBacklogOverflowError when nobody reads", async () => {
    const ipc = await connect({ maxEventBacklog: 5 });
    const events = await ipc.subscribe(["tick"]);
    const connection = fake.requests.at(-1)?.connection;
    if (!connection) throw new Error("no SUBSCRIBE reached the fake");
    for (let index = 0; index < 10; index++) fake.sendEvent(connection, TICK, `{"first":false,"payload":"${index}"}`);
    await sleep(50);
    await expect(events.next(1000)).rejects.toBeInstanceOf(IpcEventBacklogOverflowError);
  });

  it("rejects subscribe() with IpcSubscribeError when the WM refuses", async () => {
    fake.respond = () => '{"success":false}';
    const ipc = await connect();
    await expect(ipc.subscribe(["window"])).rejects.toBeInstanceOf(IpcSubscribeError);
  });

  it("ends a for-await loop when the subscription is closed", async () => {
    const ipc = await connect();
    const events = await ipc.subscribe(["tick"]);
    setTimeout(() => events.close(), 20);
    const seen = [];
    for await (const item of events) seen.push(item);
    expect(seen).toEqual([]);
  });
});
