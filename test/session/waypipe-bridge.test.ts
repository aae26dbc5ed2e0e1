import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WAYPIPE_SESSION_HEADER, WaypipeBridge } from "../../src/session/waypipe-bridge.js";
import { listenOnTempSocket } from "../helpers/socket-peer.js";
import { within } from "../helpers/processes.js";

// The bridge between a VM's waypipe port and the host's `waypipe client`, against real unix sockets: one
// plays QEMU's chardev server (the guest's side), the other the waypipe client's listening socket.

const FAST = { reconnectGapMs: 20, maxRetryDelayMs: 100, headerTimeoutMs: 2000, firstDataTimeoutMs: 2000 };

describe("WaypipeBridge", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(timing: Partial<typeof FAST> = {}) {
    const guest = await listenOnTempSocket();
    const client = await listenOnTempSocket();
    const logs: string[] = [];
    const bridge = new WaypipeBridge({
      network: "family",
      port: 2,
      guestSocket: guest.path,
      clientSocket: client.path,
      log: (message) => logs.push(message),
      timing: { ...FAST, ...timing },
    });
    cleanups.push(() => guest.close(), () => client.close(), () => bridge.close());
    bridge.start();
    return { guest, client, bridge, logs };
  }

  it("forwards what follows the guest's header to a new waypipe client connection, both ways", async () => {
    const { guest, client } = await setUp();
    const port = await within(guest.nextConnection(), 2000, "the bridge to connect to the guest's port");
    port.write(WAYPIPE_SESSION_HEADER + "from the guest");
    const session = await within(client.nextConnection(), 2000, "a waypipe client connection");
    expect(await receive(session, "from the guest".length)).toBe("from the guest");
    session.write("from the compositor");
    expect(await receive(port, "from the compositor".length)).toBe("from the compositor");
  });

  it("connects to the waypipe client only once the session's first bytes arrive", async () => {
    const { guest, client } = await setUp();
    const port = await guest.nextConnection();
    port.write(WAYPIPE_SESSION_HEADER);
    const connection = client.nextConnection();
    const early = await Promise.race([connection, delay(300).then(() => undefined)]);
    expect(early).toBeUndefined();
    port.write("x");
    await within(connection, 2000, "the session's connection");
  });

  it("ends the guest connection with the session and offers the next session a fresh one", async () => {
    const { guest, client, logs } = await setUp();
    const first = await guest.nextConnection();
    first.write(WAYPIPE_SESSION_HEADER + "one");
    const firstSession = await client.nextConnection();
    await receive(firstSession, 3);
    firstSession.end();
    await within(once(first, "close"), 2000, "the bridge to drop the guest connection");
    const second = await within(guest.nextConnection(), 2000, "a new guest connection");
    second.write(WAYPIPE_SESSION_HEADER + "two");
    expect(await receive(await client.nextConnection(), 3)).toBe("two");
    expect(logs.some((line) => /family: waypipe session on port 2 ended: waypipe client closed/.test(line))).toBe(true);
  });

  it("drops a connection whose first bytes are not the header, says why, and connects again", async () => {
    const { guest, logs } = await setUp();
    const port = await guest.nextConnection();
    port.write("\u0000\u0001garbage bytes!\n");
    await within(once(port, "close"), 2000, "the connection to be dropped");
    expect(logs.join("\n")).toContain("where a session header belongs");
    await within(guest.nextConnection(), 2000, "the next connection");
  });

  it("drops a connection on which no session began, quietly, so that a guest waiting for a drop sees one", async () => {
    const { guest, logs } = await setUp({ headerTimeoutMs: 100 });
    const port = await guest.nextConnection();
    await within(once(port, "close"), 2000, "the idle connection to be dropped");
    await within(guest.nextConnection(), 2000, "the next connection");
    expect(logs).toEqual([]);
  });

  it("gives up on a header without waypipe data after it", async () => {
    const { guest, client, logs } = await setUp({ firstDataTimeoutMs: 100 });
    const port = await guest.nextConnection();
    port.write(WAYPIPE_SESSION_HEADER);
    await within(once(port, "close"), 2000, "the connection to be dropped");
    expect(logs.join("\n")).toContain("no waypipe data within 100 ms");
    const early = await Promise.race([client.nextConnection(), delay(100).then(() => undefined)]);
    expect(early).toBeUndefined();
  });

  it("keeps trying while the VM's socket is missing and carries sessions once it is there", async () => {
    const { guest, client, logs } = await setUp();
    await guest.close();
    await waitUntil(() => logs.some((line) => line.includes("cannot connect to the VM's waypipe port")));
    const server = createServer();
    await mkdir(dirname(guest.path), { recursive: true });
    await new Promise<void>((resolve) => server.listen(guest.path, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const [port] = (await within(once(server, "connection"), 2000, "a connection to the new socket")) as [Socket];
    cleanups.push(() => void port.destroy());
    port.write(WAYPIPE_SESSION_HEADER + "back");
    expect(await receive(await client.nextConnection(), 4)).toBe("back");
  });

  it("carries 32 MiB intact and stops reading the guest while the waypipe client does not read", async () => {
    const { guest, client } = await setUp();
    const port = await guest.nextConnection();
    const payload = Buffer.alloc(32 * 1024 * 1024, 7);
    for (let i = 0; i < payload.length; i += 4099) payload[i] = i % 251;
    port.write(WAYPIPE_SESSION_HEADER);
    port.write(payload.subarray(0, 1));
    const session = await client.nextConnection();
    session.pause();
    port.write(payload.subarray(1));
    await delay(300);
    // The bridge holds at most its sockets' buffers: the rest waits in the guest's side, unread.
    expect(port.writableLength).toBeGreaterThan(16 * 1024 * 1024);
    session.resume();
    const received = await receive(session, payload.length, "buffer");
    expect(sha256(received)).toBe(sha256(payload));
  });

  it("stops connecting once closed", async () => {
    const { guest, bridge } = await setUp({ headerTimeoutMs: 50 });
    const port = await guest.nextConnection();
    bridge.close();
    await within(once(port, "close"), 2000, "close() to drop the connection");
    const late = await Promise.race([guest.nextConnection(), delay(300).then(() => undefined)]);
    expect(late).toBeUndefined();
  });
});

function receive(socket: Socket, length: number): Promise<string>;
function receive(socket: Socket, length: number, as: "buffer"): Promise<Buffer>;
async function receive(socket: Socket, length: number, as: "text" | "buffer" = "text"): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of socket.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    total += chunk.length;
    if (total >= length) break;
  }
  const data = Buffer.concat(chunks);
  return as === "buffer" ? data : data.toString("utf8");
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(10);
  }
}
