import type { MessageBus } from "@jellybrick/dbus-next";
import { UsageError } from "../shared/errors.js";
import { SessionClient } from "../shared/session-client.js";
import { describeHandshake } from "./handshake-text.js";

// `clanctl peers|block|unblock`: the members of a network's VPN, through clan-sessiond (docs/vpn.md).

export async function runVpnCommand(
  command: string,
  { values, positionals }: { values: { json?: boolean }; positionals: string[] },
  connect: () => MessageBus,
): Promise<void> {
  const [network, peer] = positionals;
  if (!network || (command !== "peers" && !peer)) throw new UsageError(`${command}: missing arguments\nTry 'clanctl ${command} --help'.`);
  const session = await SessionClient.connect(connect());
  if (command === "block" || command === "unblock") {
    if (command === "block") await session.blockPeer(network, peer!);
    else await session.unblockPeer(network, peer!);
    console.log(`${network}: ${peer} is ${command === "block" ? "blocked" : "no longer blocked"}`);
    return;
  }
  const peers = await session.peers(network);
  if (values.json) {
    console.log(JSON.stringify(peers, null, 2));
    return;
  }
  if (peers.length === 0) console.log(`${network}: the VPN has no peers`);
  for (const p of peers) {
    const state = p.blocked ? "blocked" : p.connected ? "connected" : "not connected";
    console.log(`${p.name.padEnd(16)} ${state.padEnd(13)} ${describeHandshake(p.lastHandshake).padEnd(22)} ${p.allowedIps.join(",")}  ${p.publicKey}`);
  }
}
