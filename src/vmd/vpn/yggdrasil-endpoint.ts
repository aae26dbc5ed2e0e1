import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import { isAlive, readTail, spawnDetached } from "../qemu-process.js";
import { hostCommand } from "./host-command.js";
import { inNetwork, intoEndpointSide, networkNamespaceTarget, onEndpointSide, type NamespaceAccess } from "./namespace-access.js";
import type { NamespaceNames } from "./namespace.js";
import { ensureDirectory, writeSecret, type VpnStatePaths } from "./vpn-state.js";
import type { YggdrasilVpn } from "../../shared/vpn-spec.js";

// The Yggdrasil endpoint of a network: yggdrasil started on the endpoint's side (namespace-access.ts), where its peerings reach the
// internet, with its tun interface then moved into the network's namespace (the same split as WireGuard's).
// Multicast discovery is off: a network's node peers only with the nodes its network names. The node's keys are
// generated once and kept in clan-vmd's state; its address (200::/7) is derived from them, and its /64 (300::/7)
// is where the VM's address comes from.

const APPEAR_TIMEOUT_MS = 10_000;
const NodeConfig = z.object({ PrivateKey: z.string().regex(/^[0-9a-f]{128}$/), PublicKey: z.string().regex(/^[0-9a-f]{64}$/) }).loose();

export interface YggdrasilStart {
  names: NamespaceNames;
  access: NamespaceAccess;
  spec: YggdrasilVpn;
  state: VpnStatePaths;
  runtimeConfig: string;
  adminSocket: string;
  outputFile: string;
  yggdrasilBinary: string;
}

export interface YggdrasilNode {
  pid: number;
  /** The node's address, on its interface in the namespace. */
  address: string;
  /** The VM's address: the first host of the node's /64. */
  vmAddress: string;
}

/** The node's generated config (keys included), made on first use and kept 0600. */
async function ensureNodeConfig(state: VpnStatePaths, yggdrasilBinary: string): Promise<Record<string, unknown>> {
  await ensureDirectory(state);
  const existing = await readFile(state.yggdrasilConfig, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing !== undefined) return NodeConfig.parse(JSON.parse(existing));
  const generated = NodeConfig.parse(JSON.parse(await hostCommand(yggdrasilBinary, ["-genconf", "-json"])));
  await writeSecret(state.yggdrasilConfig, `${JSON.stringify(generated, null, 2)}\n`);
  return generated;
}

export async function startYggdrasilEndpoint(start: YggdrasilStart): Promise<YggdrasilNode> {
  const { names, access, spec, yggdrasilBinary } = start;
  const node = await ensureNodeConfig(start.state, yggdrasilBinary);
  const config = {
    ...node,
    Listen: spec.listen,
    Peers: spec.peers,
    AllowedPublicKeys: spec.allowedPublicKeys,
    MulticastInterfaces: [],
    AdminListen: `unix://${start.adminSocket}`,
    IfName: names.vpnInterface,
    NodeInfoPrivacy: true,
  };
  await writeSecret(start.runtimeConfig, JSON.stringify(config));
  const address = (await hostCommand(yggdrasilBinary, ["-useconffile", start.runtimeConfig, "-address"])).trim();
  const subnet = (await hostCommand(yggdrasilBinary, ["-useconffile", start.runtimeConfig, "-subnet"])).trim();
  const prefix = /^([0-9a-f:]+)::\/64$/.exec(subnet)?.[1];
  if (!prefix) throw new ClanError("Protocol", `yggdrasil printed ${JSON.stringify(subnet)} as its subnet`);
  const [binary, ...args] = [...intoEndpointSide(access), yggdrasilBinary, "-useconffile", start.runtimeConfig];
  const pid = spawnDetached(binary!, args, start.outputFile);
  try {
    await waitForInterface(access, pid, names.vpnInterface, start.outputFile);
    await onEndpointSide(access, "ip", ["link", "set", names.vpnInterface, "netns", networkNamespaceTarget(access)]);
    // Moving an interface drops its addresses: the node's own is given back inside.
    await inNetwork(access, "ip", ["address", "add", `${address}/7`, "dev", names.vpnInterface]);
    await inNetwork(access, "ip", ["link", "set", names.vpnInterface, "up"]);
    return { pid, address, vmAddress: `${prefix}::2` };
  } catch (error) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
    throw error;
  }
}

async function waitForInterface(access: NamespaceAccess, pid: number, vpnInterface: string, outputFile: string): Promise<void> {
  const deadline = Date.now() + APPEAR_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new ClanError("NetworkFailed", `yggdrasil exited at start: ${(await readTail(outputFile, 1000)).trim()}`);
    if (await onEndpointSide(access, "ip", ["link", "show", vpnInterface]).then(() => true, () => false)) return;
    await sleep(50);
  }
  throw new ClanError("NetworkFailed", `yggdrasil did not create ${vpnInterface} within ${APPEAR_TIMEOUT_MS} ms`);
}

const Peers = z.object({
  peers: z.array(z.object({ key: z.string(), remote: z.string().default(""), address: z.string().default(""), uptime: z.number().default(0), bytes_recvd: z.number().default(0), bytes_sent: z.number().default(0) }).loose()),
});
export type YggdrasilPeer = z.infer<typeof Peers>["peers"][number];

/** The node's current peerings, from its admin socket. */
export async function readYggdrasilPeers(adminSocket: string): Promise<YggdrasilPeer[]> {
  return Peers.parse(JSON.parse(await hostCommand("yggdrasilctl", ["-endpoint", `unix://${adminSocket}`, "-json", "getPeers"]))).peers;
}
