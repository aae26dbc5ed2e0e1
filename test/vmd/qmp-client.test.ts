import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClanError } from "../../src/shared/errors.js";
import { QmpClient, QmpCommandError, type QmpEvent } from "../../src/vmd/qmp-client.js";
import { listenOnTempSocket, readLines, type SocketPeer } from "../helpers/socket-peer.js";

// QmpClient against a FAKE QMP peer: a scripted unix-socket server that sends what QEMU would, in orders and
// timings QEMU rarely produces on demand (replies out of order, silence, a hang-up mid-command). Real QEMU
// is covered end to end in test/vmd/vmd.e2e.test.ts.

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: "" }, capabilities: ["oob"] } };

interface FakeQmp {
  socket: Socket;
  /** The next command the client sent, parsed. */
  nextCommand(): Promise<{ execute: string; id: string; arguments?: unknown }>;
  send(message: unknown): void;
}

let peer: SocketPeer;
let client: QmpClient;
let fake: FakeQmp;

/** Accepts one connection, greets like QEMU and, when told to, answers qmp_capabilities. */
async function connectThroughFake(options: { answerCapabilities: boolean; timeoutMs?: number }) {
  const accepted = peer.nextConnection();
  const connecting = QmpClient.connect(peer.path, options.timeoutMs ?? 2000);
  const socket = await accepted;
  const lines = readLines(socket);
  const peerSide: FakeQmp = {
    socket,
    nextCommand: async () => JSON.parse(await lines.next()) as Awaited<ReturnType<FakeQmp["nextCommand"]>>,
    send: (message) => socket.write(`${JSON.stringify(message)}\n`),
  };
  peerSide.send(GREETING);
  const capabilities = await peerSide.nextCommand();
  expect(capabilities.execute).toBe("qmp_capabilities");
  if (options.answerCapabilities) peerSide.send({ return: {}, id: capabilities.id });
  return { connecting, peerSide };
}

beforeEach(async () => {
  peer = await listenOnTempSocket();
});

afterEach(async () => {
  client?.close();
  await peer.close();
});

describe("QmpClient against a fake QMP peer", () => {
  beforeEach(async () => {
    const { connecting, peerSide } = await connectThroughFake({ answerCapabilities: true });
    client = await connecting;
    fake = peerSide;
  });

  it("matches replies to commands by id when they come back out of order, with an event in between", async () => {
    const events: QmpEvent[] = [];
    client.on("event", (event) => events.push(event));
    const status = client.execute("query-status");
    const version = client.execute("query-version");
    const first = await fake.nextCommand();
    const second = await fake.nextCommand();
    expect([first.execute, second.execute]).toEqual(["query-status", "query-version"]);

    fake.send({ return: { qemu: { major: 7 } }, id: second.id });
    fake.send({ event: "STOP", timestamp: { seconds: 1, microseconds: 2 } });
    fake.send({ return: { status: "paused", running: false }, id: first.id });

    expect(await version).toEqual({ qemu: { major: 7 } });
    expect(await status).toEqual({ status: "paused", running: false });
    expect(events).toEqual([{ event: "STOP", timestamp: { seconds: 1, microseconds: 2 } }]);
  });

  it("sends arguments and parses query-status", async () => {
    const status = client.queryStatus();
    const command = await fake.nextCommand();
    expect(command).toEqual({ execute: "query-status", id: command.id });
    fake.send({ return: { status: "running", running: true, singlestep: false }, id: command.id });
    expect(await status).toMatchObject({ status: "running", running: true });

    const withArguments = client.execute("human-monitor-command", { "command-line": "info status" });
    expect(await fake.nextCommand()).toMatchObject({ arguments: { "command-line": "info status" } });
    void withArguments.catch(() => undefined);
  });

  it("turns an error reply into a QmpCommandError with QEMU's class and description", async () => {
    const reply = client.execute("cont");
    const command = await fake.nextCommand();
    fake.send({ error: { class: "GenericError", desc: "Resetting the Virtual Machine is required" }, id: command.id });
    const error = await reply.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpCommandError);
    expect(error).toMatchObject({
      code: "QemuFailed",
      command: "cont",
      errorClass: "GenericError",
      message: "QMP cont failed: GenericError: Resetting the Virtual Machine is required",
    });
  });

  it("times out a command that gets no reply, and ignores the reply if it comes late", async () => {
    const reply = client.execute("system_powerdown", undefined, 50);
    const command = await fake.nextCommand();
    await expect(reply).rejects.toMatchObject({ code: "Timeout", message: "QMP system_powerdown got no reply within 50 ms" });
    fake.send({ return: {}, id: command.id });

    const next = client.execute("query-status");
    const nextCommand = await fake.nextCommand();
    fake.send({ return: { status: "running", running: true }, id: nextCommand.id });
    expect(await next).toEqual({ status: "running", running: true });
  });

  it("rejects every pending command with Disconnected when the connection closes", async () => {
    const closed = new Promise<void>((resolve) => client.once("close", resolve));
    const replies = [client.execute("stop"), client.execute("cont")];
    await fake.nextCommand();
    await fake.nextCommand();
    fake.socket.destroy();
    for (const reply of replies) {
      await expect(reply).rejects.toMatchObject({ code: "Disconnected", message: expect.stringMatching(/QMP connection closed during (stop|cont)/) });
    }
    await closed;
    expect(client.closed).toBe(true);
    await expect(client.execute("cont")).rejects.toBeInstanceOf(ClanError);
  });
});

describe("QmpClient.connect against a fake QMP peer", () => {
  it("refuses a peer that does not greet like QMP", async () => {
    const accepted = peer.nextConnection();
    const connecting = QmpClient.connect(peer.path, 1000);
    (await accepted).write('{"hello":"world"}\n');
    await expect(connecting).rejects.toMatchObject({ code: "Protocol", message: `${peer.path} did not greet like QMP` });
  });

  it("times out when no greeting comes", async () => {
    await expect(QmpClient.connect(peer.path, 100)).rejects.toMatchObject({ code: "Timeout" });
  });

  it("closes its connection when qmp_capabilities is not answered, freeing QEMU's single QMP slot", async () => {
    const { connecting, peerSide } = await connectThroughFake({ answerCapabilities: false, timeoutMs: 200 });
    const peerSawClose = new Promise<void>((resolve) => peerSide.socket.once("close", () => resolve()));
    await expect(connecting).rejects.toMatchObject({ code: "Timeout", message: "QMP qmp_capabilities got no reply within 200 ms" });
    await peerSawClose;
  });
});
