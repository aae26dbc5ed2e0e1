// The nftables ruleset inside a network's namespace, as text for `nft -f -`. The namespace holds only the VM's
// tap, the VPN's interface and loopback, and has no route to the host: that alone keeps the VM off the host's LAN
// and the internet. The ruleset adds that the namespace forwards only between the VM and the VPN, accepts
// nothing addressed to itself but IPv6 neighbour discovery (IPv6's ARP, without which the VM cannot find its
// gateway), and refuses blocked peers' addresses in both directions at once.
// Every name and address in it was generated or validated (vpn-spec.ts) before it gets here.

const TABLE = "clan";
const BLOCKED_SET = "blocked";

export interface FirewallInput {
  tap: string;
  vpnInterface: string;
  blockedPrefixes: string[];
}

export function namespaceRuleset({ tap, vpnInterface, blockedPrefixes }: FirewallInput): string {
  const elements = blockedPrefixes.length > 0 ? `\n    elements = { ${blockedPrefixes.join(", ")} }` : "";
  return `table inet ${TABLE} {
  set ${BLOCKED_SET} {
    type ipv4_addr
    flags interval${elements}
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ip saddr @${BLOCKED_SET} drop
    ip daddr @${BLOCKED_SET} drop
    iifname "${tap}" oifname "${vpnInterface}" accept
    iifname "${vpnInterface}" oifname "${tap}" accept
  }
}
`;
}

/** `nft` arguments that add (or delete) prefixes to the blocked set of a running namespace. */
export function blockedSetCommand(action: "add" | "delete", prefixes: string[]): string[] {
  return [action, "element", "inet", TABLE, BLOCKED_SET, `{ ${prefixes.join(", ")} }`];
}
