import { createHash } from "node:crypto";
import { ClanError } from "../../shared/errors.js";
import { namespaceRuleset } from "./firewall.js";
import { hostCommand, inNamespace } from "./host-command.js";
import { NAMESPACE_GATEWAY } from "./vpn-spec.js";

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

/**
 * Creates the namespace with the VM's tap (a persistent tap that QEMU, started inside, attaches to), a route to
 * the VM's address, forwarding, and the firewall. Routes to the peers come with the VPN's interface.
 */
export async function createNamespace(names: NamespaceNames, vmAddress: string, blockedPrefixes: string[]): Promise<void> {
  if (await namespaceExists(names.namespace)) await deleteNamespace(names);
  await hostCommand("ip", ["netns", "add", names.namespace]);
  try {
    const ns = names.namespace;
    await hostCommand("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await hostCommand("ip", ["-n", ns, "tuntap", "add", "dev", names.tap, "mode", "tap"]);
    await hostCommand("ip", ["-n", ns, "address", "add", `${NAMESPACE_GATEWAY}/32`, "dev", names.tap]);
    await hostCommand("ip", ["-n", ns, "link", "set", names.tap, "up"]);
    await hostCommand("ip", ["-n", ns, "route", "add", `${vmAddress}/32`, "dev", names.tap]);
    await inNamespace(ns, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
    await inNamespace(ns, "nft", ["-f", "-"], namespaceRuleset({ tap: names.tap, vpnInterface: names.vpnInterface, blockedPrefixes }));
  } catch (error) {
    await deleteNamespace(names).catch(() => undefined);
    throw error;
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
