import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REPO } from "../helpers/daemons.js";
import { acceptsConnections, collectOutput, hasBinary, skipReason, stopProcess, waitFor } from "../helpers/processes.js";
import { waitUntilQuiet } from "../helpers/wake-ups.js";
import { encodeMessage, rawHeader, readDisplayError, readGlobal, WireConnection } from "../helpers/wayland-wire.js";

// clan-wayland-filter's wire parser against a hostile client: the real filter binary between a raw client (this
// test, playing what a guest app can make `waypipe client` send) and a stand-in compositor that records every byte
// that reaches it. No fds cross here (Node cannot send them); the e2e test proves they do, with wl_shm windows.

const FILTER = join(REPO, "dist", "clan-wayland-filter");
/** The compositor connections a filter makes before a test's client: its security-context look, a probe's relay. */
const FILTER_OWN_CONNECTIONS = 2;

/** What the stand-in compositor offers: two globals a window needs, two it must never see. */
const GLOBALS = [
  { name: 1, interface: "wl_compositor", version: 4 },
  { name: 2, interface: "zwlr_screencopy_manager_v1", version: 3 },
  { name: 3, interface: "wl_shm", version: 1 },
  { name: 4, interface: "zwlr_layer_shell_v1", version: 4 },
];

describe.skipIf(!hasBinary("gcc"))(`clan-wayland-filter's wire parser${skipReason("gcc")}`, () => {
  let dir: string;
  let compositor: Server;
  /** One entry per connection the filter made to the compositor, in order. */
  let upstream: { connection: WireConnection; registry: number | undefined }[];
  let filter: ResultPromise;
  let filterOutput: () => string;
  let listen: string;
  /** Every request the compositor got, with the index of the connection it came on. */
  let requestsSeen: { index: number; message: { object: number; opcode: number; body: Buffer } }[];

  beforeAll(async () => {
    await execa("bash", [join(REPO, "scripts", "build-wayland-filter.sh")]);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-allowlist-unit-"));
    upstream = [];
    requestsSeen = [];
    compositor = createServer((socket) => {
      const entry = { connection: WireConnection.adopt(socket), registry: undefined as number | undefined };
      upstream.push(entry);
      // Answers get_registry with GLOBALS and sync with its callback's done, as a compositor would.
      socket.on("data", () => {
        for (const message of entry.connection.received.splice(0)) {
          requestsSeen.push({ index: upstream.indexOf(entry), message });
          if (message.object === 1 && message.opcode === 1) {
            entry.registry = message.body.readUInt32LE(0);
            for (const global of GLOBALS) {
              socket.write(encodeMessage(entry.registry, 0, [{ uint: global.name }, { string: global.interface }, { uint: global.version }]));
            }
          } else if (message.object === 1 && message.opcode === 0) {
            socket.write(encodeMessage(message.body.readUInt32LE(0), 0, [{ uint: 1 }]));
          }
        }
      });
    });
    await new Promise<void>((resolve) => compositor.listen(join(dir, "compositor.sock"), resolve));
    listen = join(dir, "filter.sock");
    filter = execa(FILTER, ["--listen", listen, "--app-id", "unit", "--", "sleep", "600"], {
      env: { WAYLAND_DISPLAY: join(dir, "compositor.sock") },
      reject: false,
    });
    filterOutput = collectOutput(filter);
    await waitFor("the filter's socket", async () => ((await acceptsConnections(listen)) ? true : undefined), 10_000);
    // Before a test's client: the filter's own look for a security context, and the relay of the connection that
    // probed its socket. Their order against each other varies; the client's relay comes after both.
    await waitFor("the filter's first two compositor connections", () => (upstream.length >= FILTER_OWN_CONNECTIONS ? true : undefined), 10_000);
  });

  afterEach(async () => {
    await stopProcess(filter);
    compositor.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A client with a registry (id 2) whose globals have all arrived (the sync's callback, id 3, is done). */
  const clientWithRegistry = async (): Promise<WireConnection> => {
    const client = await WireConnection.connect(listen);
    client.send(Buffer.concat([encodeMessage(1, 1, [{ uint: 2 }]), encodeMessage(1, 0, [{ uint: 3 }])]));
    await waitFor("the sync's done", () => (client.received.some((m) => m.object === 3) ? true : undefined));
    return client;
  };

  /** The requests the compositor got from the filter's connection for the test's client. */
  const requestsFromClient = () => requestsSeen.filter(({ index }) => index === FILTER_OWN_CONNECTIONS).map(({ message }) => message);
  const clientUpstreamClosed = () => upstream[FILTER_OWN_CONNECTIONS]?.connection.closed === true;

  it("sleeps while nothing happens: no periodic wake-up between clients", async () => {
    // A poll() with a timeout here (500 ms, once) woke the filter twice a second for as long as the VM ran.
    await waitUntilQuiet(filter.pid!, { stretchMs: 3000, tolerance: 1, withinMs: 20_000 });
  }, 30_000);

  it("shows only the allowed globals", async () => {
    const client = await clientWithRegistry();
    const globals = client.received.filter((m) => m.object === 2 && m.opcode === 0).map((m) => readGlobal(m.body).interface);
    expect(globals).toEqual(["wl_compositor", "wl_shm"]);
    client.close();
  });

  it("passes a global_remove of a shown global and drops one of a hidden global", async () => {
    const client = await clientWithRegistry();
    const last = upstream[upstream.length - 1]!;
    last.connection.send(Buffer.concat([encodeMessage(2, 1, [{ uint: 2 }]), encodeMessage(2, 1, [{ uint: 3 }]), encodeMessage(2, 1, [{ uint: 77 }]), encodeMessage(9, 0, [{ uint: 5 }])]));
    await waitFor("the marker event", () => (client.received.some((m) => m.object === 9) ? true : undefined));
    const removed = client.received.filter((m) => m.object === 2 && m.opcode === 1).map((m) => m.body.readUInt32LE(0));
    expect(removed).toEqual([3]);
    client.close();
  });

  it("forwards an allowed bind and any other request byte for byte", async () => {
    const client = await clientWithRegistry();
    const bind = encodeMessage(2, 0, [{ uint: 3 }, { string: "wl_shm" }, { uint: 1 }, { uint: 10 }]);
    const other = encodeMessage(10, 0, [{ uint: 11 }, { uint: 0 }, { uint: 4096 }]);
    client.send(Buffer.concat([bind, other]));
    await waitFor("both requests upstream", () => (requestsFromClient().length >= 4 ? true : undefined));
    const [, , forwardedBind, forwardedOther] = requestsFromClient();
    expect(Buffer.concat([rawHeader(2, 0, bind.length), forwardedBind!.body])).toEqual(bind);
    expect(Buffer.concat([rawHeader(10, 0, other.length), forwardedOther!.body])).toEqual(other);
    expect(client.closed).toBe(false);
    client.close();
  });

  const expectRefusedBind = async (name: number, iface: string, version = 1) => {
    const client = await clientWithRegistry();
    client.send(encodeMessage(2, 0, [{ uint: name }, { string: iface }, { uint: version }, { uint: 10 }]));
    await client.whenClosed();
    const error = client.received.find((m) => m.object === 1 && m.opcode === 0);
    expect(error, "a wl_display.error").toBeDefined();
    expect(readDisplayError(error!.body)).toEqual({ object: 2, code: 0, message: `invalid global ${iface} (${name})` });
    // The compositor never saw the bind: only get_registry and sync crossed.
    expect(requestsFromClient().map((m) => [m.object, m.opcode])).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(filterOutput()).toMatch(/closing a client: a bind to invalid global/);
  };

  it("refuses a bind to a hidden global with a protocol error and closes the connection", () => expectRefusedBind(2, "zwlr_screencopy_manager_v1", 3));
  it("refuses a bind to a name the compositor never offered", () => expectRefusedBind(99, "wl_compositor"));
  it("refuses a bind that names a shown global with another interface", () => expectRefusedBind(1, "zwlr_layer_shell_v1"));
  it("refuses a bind above the offered version", () => expectRefusedBind(3, "wl_shm", 2));

  const expectClosedWithNothingForwarded = async (bytes: Buffer, why: RegExp) => {
    const client = await WireConnection.connect(listen);
    client.send(bytes);
    await client.whenClosed();
    await waitFor("the upstream connection to close", () => (clientUpstreamClosed() ? true : undefined));
    expect(requestsFromClient()).toEqual([]);
    expect(filterOutput()).toMatch(why);
  };

  it("closes a connection whose message says it is shorter than its header", () =>
    expectClosedWithNothingForwarded(Buffer.concat([rawHeader(1, 0, 4), Buffer.alloc(8)]), /a message of 4 bytes/));
  it("closes a connection whose message says it is larger than libwayland's limit", () =>
    expectClosedWithNothingForwarded(Buffer.concat([rawHeader(5, 0, 8192), Buffer.alloc(64)]), /a message of 8192 bytes/));
  it("closes a connection whose message size is not a multiple of 4", () =>
    expectClosedWithNothingForwarded(Buffer.concat([rawHeader(5, 0, 13), Buffer.alloc(8)]), /a message of 13 bytes/));

  it("forwards nothing of a truncated header, and closes upstream when the client goes", async () => {
    const client = await WireConnection.connect(listen);
    client.socket.end(Buffer.from([1, 0, 0, 0, 0, 0]));
    await waitFor("the upstream connection to close", () => (clientUpstreamClosed() ? true : undefined));
    expect(requestsFromClient()).toEqual([]);
  });

  it("closes a connection with a malformed bind (a string longer than its message)", async () => {
    const client = await clientWithRegistry();
    const bind = Buffer.concat([rawHeader(2, 0, 24), Buffer.from([3, 0, 0, 0, 200, 0, 0, 0]), Buffer.alloc(8)]);
    client.send(bind);
    await client.whenClosed();
    expect(requestsFromClient().length).toBe(2);
    expect(filterOutput()).toMatch(/malformed wl_registry.bind/);
  });
});
