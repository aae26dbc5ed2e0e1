import { createHash } from "node:crypto";
import { ClanError } from "../../shared/errors.js";
import { namespaceRuleset } from "./firewall.js";
import type { VmIdentity } from "../vm-identity.js";
import { hostCommand } from "./host-command.js";
import { createRootless, destroyRootless, inNetwork, type NamespaceAccess, type RootlessStart } from "./namespace-access.js";
import { NAMESPACE_GATEWAY, NAMESPACE_GATEWAY6 } from "../../shared/vpn-spec.js";

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

async function namedNamespaceExists(namespace: string): Promise<boolean> {
  const listing = await hostCommand("ip", ["netns", "list"]);
  return listing.split("\n").some((line) => line.split(" ")[0] === namespace);
}

export interface VmAddress {
  /** With WireGuard: the member's VPN address. */
  ipv4?: string;
  /** With Yggdrasil: an address of the node's routed /64. */
  ipv6?: string;
}

export interface NamespaceStart {
  names: NamespaceNames;
  blockedPrefixes: string[];
  /** Who QEMU runs as, the tap's owner; undefined: clan-vmd's own user (in the rootless case, the namespace's root). */
  tapOwner: VmIdentity | undefined;
  /** Rootless: made by clan-vmd's user alone (namespace-access.ts). */
  rootless?: RootlessStart;
}

/**
 * Creates the namespace with the VM's tap (a persistent tap that QEMU, started inside, attaches to) and the
 * firewall. The VPN's interface is moved in by its endpoint; routeToVm() then adds the VM's address.
 */
export async function createNamespace({ names, blockedPrefixes, tapOwner, rootless }: NamespaceStart): Promise<NamespaceAccess> {
  let access: NamespaceAccess;
  if (rootless) {
    access = await createRootless(rootless);
  } else {
    if (await namedNamespaceExists(names.namespace)) await deleteNamespace({ kind: "privileged", namespace: names.namespace }, names);
    await hostCommand("ip", ["netns", "add", names.namespace]);
    access = { kind: "privileged", namespace: names.namespace };
  }
  try {
    // In the rootless case clan-vmd's user is the namespace's root: uid 0 there owns the tap.
    const owner = tapOwner ? ["user", String(tapOwner.uid), "group", String(tapOwner.gid)] : rootless ? ["user", "0", "group", "0"] : [];
    await inNetwork(access, "ip", ["link", "set", "lo", "up"]);
    await inNetwork(access, "ip", ["tuntap", "add", "dev", names.tap, "mode", "tap", ...owner]);
    await inNetwork(access, "ip", ["address", "add", `${NAMESPACE_GATEWAY}/32`, "dev", names.tap]);
    await inNetwork(access, "ip", ["address", "add", `${NAMESPACE_GATEWAY6}/64`, "dev", names.tap]);
    await inNetwork(access, "ip", ["link", "set", names.tap, "up"]);
    await inNetwork(access, "nft", ["-f", "-"], namespaceRuleset({ tap: names.tap, vpnInterface: names.vpnInterface, blockedPrefixes }));
    return access;
  } catch (error) {
    await deleteNamespace(access, names).catch(() => undefined);
    throw error;
  }
}

/** Routes the VM's address to its tap and lets the namespace forward that family. */
export async function routeToVm(access: NamespaceAccess, { tap }: NamespaceNames, vm: VmAddress): Promise<void> {
  if (vm.ipv4) {
    await inNetwork(access, "ip", ["route", "add", `${vm.ipv4}/32`, "dev", tap]);
    await inNetwork(access, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  }
  if (vm.ipv6) {
    await inNetwork(access, "ip", ["-6", "route", "add", `${vm.ipv6}/128`, "dev", tap]);
    await inNetwork(access, "sysctl", ["-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
  }
}

/** Removes the namespace and every interface in it; a namespace that is already gone is fine. */
export async function deleteNamespace(access: NamespaceAccess, names: NamespaceNames): Promise<void> {
  if (access.kind === "rootless") {
    destroyRootless(access);
    return;
  }
  if (!(await namedNamespaceExists(access.namespace))) return;
  // Persistent taps are not destroyed with their namespace's last reference as reliably as other devices.
  await hostCommand("ip", ["-n", access.namespace, "link", "delete", names.tap]).catch(() => undefined);
  await hostCommand("ip", ["netns", "delete", access.namespace]);
  if (await namedNamespaceExists(access.namespace)) throw new ClanError("NetworkFailed", `namespace ${access.namespace} is still there after deleting it`);
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
