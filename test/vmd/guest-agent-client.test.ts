import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuestAgentClient } from "../../src/vmd/guest-agent-client.js";
import { listenOnTempSocket, type SocketPeer } from "../helpers/socket-peer.js";

// GuestAgentClient against a FAKE guest agent, for the one thing the real qemu-ga (test/vmd/guest-agent.e2e.test.ts)
// cannot be made to do on demand: answer a command only after the client has given up on it.

let peer: SocketPeer;
let client: GuestAgentClient;

/** Answers like qemu-ga, except that replies to commands named in `late` are held until release() is called. */
function fakeAgent(socket: Socket, late: Set<string>) {
  const held: string[] = [];
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
      };
      const answer = answers[request.execute] ?? `${JSON.stringify({ error: { class: "CommandNotFound", desc: request.execute } })}\n`;
      if (late.has(request.execute)) held.push(answer);
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
});
