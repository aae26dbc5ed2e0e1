import { isIPv4 } from "node:net";
import { z } from "zod";

// A network's VPN as its generation's vm.json declares it (network.mode "vpn"): which VPN, this member's address
// and the network's peers. The network's flake writes it, so every value is validated here before it reaches an
// `ip`, `wg` or `nft` argument; the private key never appears in it (clan-vmd generates and keeps it).

const IPV4_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = `${IPV4_OCTET}(\\.${IPV4_OCTET}){3}`;

const Ipv4Address = z.string().regex(new RegExp(`^${IPV4}$`), "must be an IPv4 address such as 10.77.0.2");
const Ipv4Cidr = z.string().regex(new RegExp(`^${IPV4}/(3[0-2]|[12]?[0-9])$`), "must be an IPv4 prefix such as 10.77.0.3/32");

const PeerName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "a peer name is 1–31 lowercase letters, digits or '-', starting with a letter");
export const WireguardKey = z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, "must be a WireGuard public key (44 characters of base64)");

const Endpoint = z
  .string()
  .max(261)
  .regex(/^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:]{2,39}\]):[0-9]{1,5}$/, 'must be "host:port" or "[ipv6]:port"')
  .refine((endpoint) => {
    const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
  }, "the port must be 1–65535");

const Placement = z
  .enum(["auto", "host-namespace", "guest"])
  .default("auto")
  .describe("host-namespace: the VPN endpoint runs on the host in the network's own network namespace; guest: the guest runs it over user-mode networking; auto: host-namespace where clan-vmd can create namespaces");

/** The VM's side of the link to its namespace: a host route to this gateway, then a default route through it. */
export const NAMESPACE_GATEWAY = "169.254.0.1";
export const NAMESPACE_GATEWAY6 = "fe80::1";

function isUsableAddress(address: string): boolean {
  return isIPv4(address) && !address.startsWith("0.") && !address.startsWith("127.") && address !== NAMESPACE_GATEWAY;
}

export const WireguardPeer = z
  .object({
    name: PeerName,
    publicKey: WireguardKey,
    endpoint: Endpoint.optional().describe("Where the peer listens; absent for peers that only connect to us."),
    allowedIps: z.array(Ipv4Cidr).min(1).max(64).describe("The VPN addresses the peer may send from, and that are routed to it."),
    persistentKeepaliveSeconds: z.int().min(0).max(65535).default(25).describe("Keeps NAT mappings open; 0 turns it off."),
  })
  .strict();
export type WireguardPeer = z.infer<typeof WireguardPeer>;

export const WireguardVpn = z
  .object({
    kind: z.literal("wireguard"),
    placement: Placement,
    address: Ipv4Address.refine(isUsableAddress, `must be a unicast address other than ${NAMESPACE_GATEWAY}`).describe("This member's VPN address: the VM's address in the network."),
    listenPort: z.int().min(1).max(65535).default(51820).describe("The UDP port of this member's endpoint on the host."),
    peers: z.array(WireguardPeer).max(256).default([]),
  })
  .strict();
export type WireguardVpn = z.infer<typeof WireguardVpn>;

const YggdrasilUri = z.string().max(300).regex(/^tcp:\/\/([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:]{2,39}\]):[0-9]{1,5}$/, 'must be "tcp://host:port"');

export const YggdrasilVpn = z
  .object({
    kind: z.literal("yggdrasil"),
    placement: Placement,
    listen: z.array(YggdrasilUri).max(8).default([]).describe("Where this member's node accepts peerings."),
    peers: z.array(YggdrasilUri).max(64).default([]).describe("Nodes this member's node peers with."),
    allowedPublicKeys: z
      .array(z.string().regex(/^[0-9a-f]{64}$/, "must be a yggdrasil public key (64 hex digits)"))
      .max(256)
      .default([])
      .describe("Only these nodes may peer with this one; empty: any."),
  })
  .strict();
export type YggdrasilVpn = z.infer<typeof YggdrasilVpn>;

export const VpnSpec = z.discriminatedUnion("kind", [WireguardVpn, YggdrasilVpn]);
export type VpnSpec = z.infer<typeof VpnSpec>;
