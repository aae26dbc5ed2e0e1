import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuestAgentClient } from "../../src/vmd/guest-agent-client.js";
import { listenOnTempSocket, type SocketPeer } from "../helpers/socket-peer.js";

// GuestAgentClient against a FAKE guest agent, for what the real qemu-ga (test/vmd/guest-agent.e2e.test.ts) does
// only now and then: answer a command after the client has given up on it, or never answer a request at all.

let peer: SocketPeer;
let client: GuestAgentClient;

/**
 * Answers like qemu-ga, except that replies to commands named in `late` are held until release() is called,
 * the first `unanswered` requests get no reply at all, and commands named in `replaced` get the line given there.
 */
function fakeAgent(socket: Socket, late: Set<string>, unanswered = 0, replaced: Record<string, string> = {}) {
  const held: string[] = [];
  let toIgnore = unanswered;
  const reply = (line: string) => socket.write(line);
  let buffer = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    buffer += chunk.replaceAll("\xff", "");
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const request = JSON.parse(buffer.slice(0, newline)) as { execute: string; arguments?: { id?: number } };
      buffer = buffer.slice(newline + 1);
      const answers: Record<string, string> = {
        "guest-sync-delimited": `\xff${JSON.stringify({ return: request.arguments?.id })}\n`,
        "guest-info": `${JSON.stringify({ return: { version: "7.2.0", supported_commands: [] } })}\n`,
        "guest-fsfreeze-status": `${JSON.stringify({ return: "thawed" })}\n`,
        ...replaced,
      };
      const answer = answers[request.execute] ?? `${JSON.stringify({ error: { class: "CommandNotFound", desc: request.execute } })}\n`;
      if (toIgnore > 0) toIgnore--;
      else if (late.has(request.execute)) held.push(answer);
      else reply(answer);
    }
  });
  return { release: () => held.splice(0).forEach(reply) };
}

beforeEach(async () => {
  peer = await listenOnTempSocket();
});

afterEach(async () => {
  client?.close();
  await peer.close();
});

describe("GuestAgentClient against a fake guest agent", () => {
  it("does not take a late reply to a timed-out command for the next command's reply", async () => {
    const accepted = peer.nextConnection();
    const connecting = GuestAgentClient.connect(peer.path, 2000);
    const agent = fakeAgent(await accepted, new Set(["guest-info"]));
    client = await connecting;

    await expect(client.info(50)).rejects.toMatchObject({ code: "Timeout", message: "guest agent did not answer guest-info within 50 ms" });
    agent.release();
    expect(await client.freezeStatus()).toBe("thawed");
  });

  it("asks again when its synchronisation request goes unanswered, as after a quick reconnect", async () => {
    const accepted = peer.nextConnection();
    const startedAt = Date.now();
    const connecting = GuestAgentClient.connect(peer.path, 3000);
    fakeAgent(await accepted, new Set(), 2);
    client = await connecting;
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(await client.freezeStatus()).toBe("thawed");
  });

  it("gives up after its time limit when the agent never answers", async () => {
    const accepted = peer.nextConnection();
    const connecting = GuestAgentClient.connect(peer.path, 700);
    fakeAgent(await accepted, new Set(), Number.POSITIVE_INFINITY);
    await expect(connecting).rejects.toMatchObject({ code: "Timeout", message: "guest agent did not answer guest-sync-delimited within 700 ms" });
  });

  it("reports malformed replies as Protocol errors and quotes an agent's error as text", async () => {
    const accepted = peer.nextConnection();
    const connecting = GuestAgentClient.connect(peer.path, 2000);
    fakeAgent(await accepted, new Set(), 0, {
      "guest-info": '{"error":1}\n',
      "guest-fsfreeze-status": `{"return":${"[".repeat(5000)}${"]".repeat(5000)}}\n`,
      "guest-fsfreeze-freeze": '{"return":"all of them"}\n',
      "guest-fsfreeze-thaw": '{"error":{"class":"GenericError","desc":"\\u001b]52;c;aGk=\\u0007<b>"}}\n',
    });
    client = await connecting;
    await expect(client.info()).rejects.toMatchObject({ code: "Protocol", message: "guest agent sent a malformed reply to guest-info: {\"error\":1}" });
    await expect(client.freezeStatus()).rejects.toMatchObject({ code: "Protocol", message: expect.stringContaining("[[[[[…]]]]]") });
    await expect(client.freeze()).rejects.toMatchObject({ code: "Protocol", message: expect.stringContaining("guest-fsfreeze-freeze") });
    await expect(client.thaw()).rejects.toMatchObject({
      code: "QemuFailed",
      message: "guest agent guest-fsfreeze-thaw failed: GenericError: \\x1b]52;c;aGk=\\x07<b>",
    });
  });
});
