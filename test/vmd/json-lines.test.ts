import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClanError } from "../../src/shared/errors.js";
import { JsonLineConnection } from "../../src/vmd/json-lines.js";
import { listenOnTempSocket, readLines, type SocketPeer } from "../helpers/socket-peer.js";

// JsonLineConnection against a real unix-socket server: the framing every guest-facing protocol relies on.

const MAX_LINE = 64;

let peer: SocketPeer;
let connection: JsonLineConnection;
let server: Socket;
let received: { messages: unknown[]; invalid: string[] };

beforeEach(async () => {
  peer = await listenOnTempSocket();
  const accepted = peer.nextConnection();
  connection = await JsonLineConnection.open(peer.path, { maxLineBytes: MAX_LINE, timeoutMs: 2000 });
  server = await accepted;
  received = { messages: [], invalid: [] };
  connection.on("message", (message) => received.messages.push(message));
  connection.on("invalid", (why) => received.invalid.push(why));
});

afterEach(async () => {
  connection.close();
  await peer.close();
});

async function writeSlowly(text: string): Promise<void> {
  for (const byte of Buffer.from(text)) {
    server.write(Buffer.from([byte]));
    // Let each byte reach the client as its own chunk.
    await sleep(1);
  }
}

describe("JsonLineConnection", () => {
  it("splits several messages that arrive in one chunk", async () => {
    server.write('{"n":1}\n{"n":2}\n\n{"n":3}\n');
    await expect.poll(() => received.messages).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(received.invalid).toEqual([]);
  });

  it("reassembles a message that arrives byte by byte, including a split multi-byte character", async () => {
    await writeSlowly('{"name":"Café €"}\n');
    await expect.poll(() => received.messages).toEqual([{ name: "Café €" }]);
  });

  it("drops a line over the limit with one invalid event and keeps working afterwards", async () => {
    server.write(`{"big":"${"x".repeat(MAX_LINE * 3)}"}\n{"after":1}\n`);
    await expect.poll(() => received.messages).toEqual([{ after: 1 }]);
    expect(received.invalid).toEqual([`line longer than ${MAX_LINE} bytes dropped (1 so far)`]);

    const echo = readLines(server);
    connection.send({ still: "writable" });
    expect(await echo.next()).toBe('{"still":"writable"}');
  });

  it("drops an oversized line that arrives over many chunks without buffering it", async () => {
    await writeSlowly(`"${"y".repeat(MAX_LINE + 10)}"\n{"after":2}\n`);
    await expect.poll(() => received.messages).toEqual([{ after: 2 }]);
    expect(received.invalid).toEqual([`line longer than ${MAX_LINE} bytes dropped (1 so far)`]);
  });

  it("reports a line that is not JSON and goes on to the next", async () => {
    server.write('hello there\n{"ok":true}\n');
    await expect.poll(() => received.messages).toEqual([{ ok: true }]);
    expect(received.invalid).toEqual(["not JSON: hello there"]);
  });

  it("ignores the guest agent's 0xFF resynchronisation prefix", async () => {
    server.write(Buffer.concat([Buffer.from([0xff]), Buffer.from('{"return":42}\n')]));
    await expect.poll(() => received.messages).toEqual([{ return: 42 }]);
  });

  it("emits close when the peer goes away, and refuses to send afterwards", async () => {
    const closed = new Promise<void>((resolve) => connection.once("close", resolve));
    server.destroy();
    await closed;
    expect(connection.closed).toBe(true);
    expect(() => connection.send({})).toThrow(ClanError);
  });
});

describe("JsonLineConnection.open", () => {
  it("names the socket it cannot connect to", async () => {
    const missing = `${peer.path}.missing`;
    await expect(JsonLineConnection.open(missing, { maxLineBytes: MAX_LINE, timeoutMs: 1000 })).rejects.toMatchObject({
      code: "Disconnected",
      message: expect.stringContaining(`cannot connect to ${missing}`),
    });
  });
});
