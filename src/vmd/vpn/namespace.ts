import { createHash } from "node:crypto";
import { ClanError } from "../../shared/errors.js";
import { namespaceRuleset } from "./firewall.js";
import type { VmIdentity } from "../vm-identity.js";
import { hostCommand, inNamespace } from "./host-command.js";
import { NAMESPACE_GATEWAY, NAMESPACE_GATEWAY6 } from "./vpn-spec.js";

// A network's own network namespace: the VM's tap device, the VPN's interface (moved in by the endpoint) and
// nothing else. Names are derived from clan-vmd's runtime directory and the network, because namespace names
// (/run/netns) and wireguard-go's control sockets (/var/run/wireguard) are shared by the whole machine: two
// clan-vmd instances, or two users, must never collide.

export interface NamespaceNames {
  namespace: string;
  /** The VPN's interface: born in clan-vmd's namespace (its sockets stay there), then moved in. At most 15 bytes. */
  vpnInterface: string;
  /** The VM's tap, inside the namespace, where the name is private. */
  tap: string;
}

export function namespaceNames(runtimeRoot: string, network: string): NamespaceNames {
  const id = createHash("sha256").update(`${runtimeRoot}\0${network}`).digest("hex").slice(0, 10);
  return { namespace: `clan-${network}-${id}`, vpnInterface: `cv${id}`, tap: "vm0" };
}

export async function namespaceExists(namespace: string): Promise<boolean> {
  const listing = await hostCommand("ip", ["netns", "list"]);
  return listing.split("\n").some((line) => line.split(" ")[0] === namespace);
}

export interface VmAddress {
  /** With WireGuard: the member's VPN address. */
  ipv4?: string;
  /** With Yggdrasil: an address of the node's routed /64. */
  ipv6?: string;
}

/**
 * Creates the namespace with the VM's tap (a persistent tap that QEMU, started inside, attaches to) and the
 * firewall. The VPN's interface is moved in by its endpoint; routeToVm() then adds the VM's address.
 */
export async function createNamespace(names: NamespaceNames, blockedPrefixes: string[], tapOwner: VmIdentity | undefined): Promise<void> {
  if (await namespaceExists(names.namespace)) await deleteNamespace(names);
  await hostCommand("ip", ["netns", "add", names.namespace]);
  try {
    const ns = names.namespace;
    await hostCommand("ip", ["-n", ns, "link", "set", "lo", "up"]);
    const owner = tapOwner ? ["user", String(tapOwner.uid), "group", String(tapOwner.gid)] : [];
    await hostCommand("ip", ["-n", ns, "tuntap", "add", "dev", names.tap, "mode", "tap", ...owner]);
    await hostCommand("ip", ["-n", ns, "address", "add", `${NAMESPACE_GATEWAY}/32`, "dev", names.tap]);
    await hostCommand("ip", ["-n", ns, "address", "add", `${NAMESPACE_GATEWAY6}/64`, "dev", names.tap]);
    await hostCommand("ip", ["-n", ns, "link", "set", names.tap, "up"]);
    await inNamespace(ns, "nft", ["-f", "-"], namespaceRuleset({ tap: names.tap, vpnInterface: names.vpnInterface, blockedPrefixes }));
  } catch (error) {
    await deleteNamespace(names).catch(() => undefined);
    throw error;
  }
}

/** Routes the VM's address to its tap and lets the namespace forward that family. */
export async function routeToVm({ namespace, tap }: NamespaceNames, vm: VmAddress): Promise<void> {
  if (vm.ipv4) {
    await hostCommand("ip", ["-n", namespace, "route", "add", `${vm.ipv4}/32`, "dev", tap]);
    await inNamespace(namespace, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  }
  if (vm.ipv6) {
    await hostCommand("ip", ["-n", namespace, "-6", "route", "add", `${vm.ipv6}/128`, "dev", tap]);
    await inNamespace(namespace, "sysctl", ["-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
  }
}

/** Removes the namespace and every interface in it; a namespace that is already gone is fine. */
export async function deleteNamespace(names: NamespaceNames): Promise<void> {
  if (!(await namespaceExists(names.namespace))) return;
  // Persistent taps are not destroyed with their namespace's last reference as reliably as other devices.
  await hostCommand("ip", ["-n", names.namespace, "link", "delete", names.tap]).catch(() => undefined);
  await hostCommand("ip", ["netns", "delete", names.namespace]);
  if (await namespaceExists(names.namespace)) throw new ClanError("NetworkFailed", `namespace ${names.namespace} is still there after deleting it`);
}

/** Whether this process may create namespaces and network devices: root, or CAP_SYS_ADMIN with CAP_NET_ADMIN. */
export function canCreateNamespaces(statusText: string): boolean {
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText)?.[1];
  if (!effective) return false;
  const capabilities = BigInt(`0x${effective}`);
  const CAP_NET_ADMIN = 12n;
  const CAP_SYS_ADMIN = 21n;
  return ((capabilities >> CAP_NET_ADMIN) & 1n) === 1n && ((capabilities >> CAP_SYS_ADMIN) & 1n) === 1n;
}
