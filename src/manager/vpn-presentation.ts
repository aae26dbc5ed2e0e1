import type { NetworkStatus } from "../shared/session-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { VpnPeerInfo } from "../shared/vm-api.js";
import { formatBytes, formatTime } from "./network-presentation.js";
import type { ReadResult } from "./network-read.js";

// What the detail's VPN group says: the network's VPN on this host and each of its peers (connected or not, last
// handshake, addresses, endpoint, traffic) with Block or Unblock. Peers' names, endpoints and addresses come from the
// network's flake and from the wire: each is made safe and bounded before it is shown.

const MAX_TEXT = 200;

export interface VpnPeerRow {
  /** The peer's name as clan-vmd knows it: what BlockPeer and UnblockPeer take. */
  peer: string;
  title: string;
  subtitle: string;
  blocked: boolean;
}

export interface VpnSection {
  /** Whether the network runs a VPN here (or its generation asks for one). */
  shown: boolean;
  state: string;
  peers: VpnPeerRow[];
  /** Stands in for the peers while they are read or cannot be ("" otherwise). */
  note: string;
}

export function vpnSection(status: NetworkStatus, peers: ReadResult<VpnPeerInfo[]> | undefined, now: number): VpnSection {
  const shown = status.vpnState !== "none" || status.networkMode === "vpn";
  const handshake = status.vpnLastHandshake > 0 ? `, last handshake ${formatTime(status.vpnLastHandshake, now)}` : "";
  const state = status.vpnState === "none" ? "not running here" : `${status.vpnState}, ${status.vpnPeers} connected ${status.vpnPeers === 1 ? "peer" : "peers"}${handshake}`;
  if (!shown || status.vpnState === "none") return { shown, state, peers: [], note: "" };
  if (!peers) return { shown, state, peers: [], note: "reading the peers" };
  if (!peers.ok) return { shown, state, peers: [], note: `cannot read the peers: ${safe(peers.error)}` };
  return { shown, state, peers: peers.value.map((peer) => peerRow(peer, now)), note: "" };
}

/** What of the network's status, when it changes, may have changed its peers. */
export function vpnReadKey(status: NetworkStatus): string {
  return `${status.vpnState}/${status.vpnPeers}/${status.vpnLastHandshake}`;
}

function peerRow(peer: VpnPeerInfo, now: number): VpnPeerRow {
  const state = peer.blocked ? "blocked" : peer.connected ? "connected" : "not connected";
  const addresses = peer.allowedIps.length > 0 ? peer.allowedIps.map(safe).join(", ") : "none";
  const parts = [
    state,
    `last handshake ${formatTime(peer.lastHandshake, now)}`,
    `addresses ${addresses}`,
    `endpoint ${peer.endpoint ? safe(peer.endpoint) : "unknown"}`,
    `${formatBytes(peer.receivedBytes)} received, ${formatBytes(peer.sentBytes)} sent`,
  ];
  return { peer: peer.name, title: safe(peer.name), subtitle: parts.join(" · "), blocked: peer.blocked };
}

function safe(text: string): string {
  return terminalSafe(text, { maxChars: MAX_TEXT });
}
