import { setTimeout as sleep } from "node:timers/promises";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { isAlive, readTail, spawnDetached } from "../qemu-process.js";
import { inNetwork, intoEndpointSide, networkNamespaceTarget, onEndpointSide, type NamespaceAccess } from "./namespace-access.js";
import type { NamespaceNames } from "./namespace.js";
import type { WireguardPeer, WireguardVpn } from "../../shared/vpn-spec.js";

// The WireGuard endpoint of a network: wireguard-go (there is no kernel WireGuard on every host) started on the
// endpoint's side (namespace-access.ts), so that its UDP socket reaches the peers, with its tun interface then
// moved into the network's namespace, where only the VM can send through it. Configured with `wg` over
// wireguard-go's control socket in /var/run/wireguard of the endpoint's side.

const APPEAR_TIMEOUT_MS = 10_000;

export interface WireguardStart {
  names: NamespaceNames;
  access: NamespaceAccess;
  spec: WireguardVpn;
  keyFile: string;
  blocked: string[];
  outputFile: string;
  wireguardGoBinary: string;
}

/**
 * wireguard-go binds a random UDP port the moment it starts, and keeps it until `wg set` gives it the configured
 * one. In the privileged layout every endpoint shares clan-vmd's namespace, so that random port may be the very
 * one another network's endpoint is about to take ("Address already in use"). Endpoints there start one at a time.
 * A rootless endpoint has a namespace of its own and starts at once.
 */
let sharedNamespaceStarts: Promise<unknown> = Promise.resolve();

/** Starts and configures the endpoint; returns wireguard-go's pid. */
export function startWireguardEndpoint(start: WireguardStart): Promise<number> {
  if (start.access.kind === "rootless") return startEndpoint(start);
  const started = sharedNamespaceStarts.then(() => startEndpoint(start));
  sharedNamespaceStarts = started.catch(() => undefined);
  return started;
}

async function startEndpoint({ names, access, spec, keyFile, blocked, outputFile, wireguardGoBinary }: WireguardStart): Promise<number> {
  const { vpnInterface } = names;
  const [binary, ...args] = [...intoEndpointSide(access), wireguardGoBinary, "-f", vpnInterface];
  const pid = spawnDetached(binary!, args, outputFile);
  try {
    await waitForControlSocket(access, pid, vpnInterface, outputFile);
    await onEndpointSide(access, "ip", ["link", "set", vpnInterface, "netns", networkNamespaceTarget(access)]);
    await onEndpointSide(access, "wg", ["set", vpnInterface, "private-key", keyFile, "listen-port", String(spec.listenPort)]).catch((error: unknown) => {
      if (!/Address already in use/.test(errorMessage(error))) throw error;
      throw new ClanError("NetworkFailed", `the VPN's listenPort ${spec.listenPort}/udp is already in use on this host (by another program, or another network's VPN): the network needs another port`);
    });
    await inNetwork(access, "ip", ["link", "set", vpnInterface, "up"]);
    for (const peer of spec.peers) if (!blocked.includes(peer.publicKey)) await addPeer(access, names, peer);
    return pid;
  } catch (error) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
    throw error;
  }
}

async function waitForControlSocket(access: NamespaceAccess, pid: number, vpnInterface: string, outputFile: string): Promise<void> {
  const deadline = Date.now() + APPEAR_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new ClanError("NetworkFailed", `wireguard-go exited at start: ${(await readTail(outputFile, 1000)).trim()}`);
    if (await onEndpointSide(access, "wg", ["show", vpnInterface]).then(() => true, () => false)) return;
    await sleep(20);
  }
  throw new ClanError("NetworkFailed", `wireguard-go did not create its control socket for ${vpnInterface} within ${APPEAR_TIMEOUT_MS} ms`);
}

export async function addPeer(access: NamespaceAccess, { vpnInterface }: NamespaceNames, peer: WireguardPeer): Promise<void> {
  const endpoint = peer.endpoint ? ["endpoint", peer.endpoint] : [];
  await onEndpointSide(access, "wg", [
    "set", vpnInterface, "peer", peer.publicKey, ...endpoint,
    "allowed-ips", peer.allowedIps.join(","),
    "persistent-keepalive", peer.persistentKeepaliveSeconds === 0 ? "off" : String(peer.persistentKeepaliveSeconds),
  ]);
  for (const prefix of peer.allowedIps) await inNetwork(access, "ip", ["route", "replace", prefix, "dev", vpnInterface]);
}

/** Forgets the peer at once: its session keys go with it, so not one more packet of it is accepted. */
export async function removePeer(access: NamespaceAccess, { vpnInterface }: NamespaceNames, peer: WireguardPeer): Promise<void> {
  await onEndpointSide(access, "wg", ["set", vpnInterface, "peer", peer.publicKey, "remove"]);
  for (const prefix of peer.allowedIps) {
    await inNetwork(access, "ip", ["route", "delete", prefix, "dev", vpnInterface]).catch(() => undefined);
  }
}

export interface WireguardPeerState {
  publicKey: string;
  endpoint: string;
  /** Unix time in ms of the last handshake, 0 for never. */
  lastHandshake: number;
  receivedBytes: number;
  sentBytes: number;
}

export interface WireguardState {
  publicKey: string;
  listenPort: number;
  peers: WireguardPeerState[];
}

export async function readWireguardState(access: NamespaceAccess, vpnInterface: string): Promise<WireguardState> {
  return parseWireguardDump(await onEndpointSide(access, "wg", ["show", vpnInterface, "dump"]));
}

/** `wg show IF dump`: the interface's line (private key, public key, port, fwmark), then one line per peer. */
export function parseWireguardDump(text: string): WireguardState {
  const [head, ...peerLines] = text.trim().split("\n");
  const interfaceFields = head?.split("\t") ?? [];
  if (interfaceFields.length < 4) throw new ClanError("Protocol", "wg show dump printed no interface line");
  const peers = peerLines.map((line) => {
    const [publicKey = "", , endpoint = "", , handshake = "0", received = "0", sent = "0"] = line.split("\t");
    return {
      publicKey,
      endpoint: endpoint === "(none)" ? "" : endpoint,
      lastHandshake: Number(handshake) * 1000,
      receivedBytes: Number(received),
      sentBytes: Number(sent),
    };
  });
  return { publicKey: interfaceFields[1]!, listenPort: Number(interfaceFields[2]), peers };
}
