import { readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import { isAlive, signal, spawnDetached } from "../qemu-process.js";
import { hostCommand } from "./host-command.js";

// How clan-vmd reaches a network's two sides (docs/vpn.md, "How it is built"): the network's namespace, which
// holds the VM's tap and the VPN's interface, and the endpoint's side, where the endpoint's sockets live.
//
// privileged: a clan-vmd with CAP_NET_ADMIN and CAP_SYS_ADMIN makes a named namespace (`ip netns add`); the endpoint
// runs in clan-vmd's own namespace.
// rootless: any other clan-vmd makes a user namespace of its own with two network namespaces in it, each held by
// a sleeping process: the outer one, whose only way out is pasta (the endpoint's sockets, and pasta maps neither
// the host's loopback nor its gateway), and the inner one, the network's. The user namespace's root is clan-vmd's
// user, so nothing here needs a privilege clan-vmd does not have.

export const NamespaceAccess = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("privileged"), namespace: z.string() }).strict(),
  z
    .object({
      kind: z.literal("rootless"),
      outerPid: z.number().int().positive(),
      innerPid: z.number().int().positive(),
      pastaPid: z.number().int().positive(),
    })
    .strict(),
]);
export type NamespaceAccess = z.infer<typeof NamespaceAccess>;

type Rootless = Extract<NamespaceAccess, { kind: "rootless" }>;

/** The command prefix that runs a program inside the network's namespace. */
export function intoNetwork(access: NamespaceAccess): string[] {
  return access.kind === "privileged"
    ? ["ip", "netns", "exec", access.namespace]
    : ["nsenter", "--preserve-credentials", "-t", String(access.innerPid), "--user", "--net", "--"];
}

/** The command prefix that runs a program on the endpoint's side; empty: clan-vmd's own namespace. */
export function intoEndpointSide(access: NamespaceAccess): string[] {
  return access.kind === "privileged" ? [] : ["nsenter", "--preserve-credentials", "-t", String(access.outerPid), "--user", "--net", "--mount", "--"];
}

/**
 * The prefix that starts QEMU in the network's namespace. In the rootless case entering the user namespace makes
 * QEMU its root; it gives up every capability there before QEMU runs, so that a guest that takes QEMU over cannot
 * reconfigure the namespace (its firewall, its routes).
 */
export function qemuIntoNetwork(access: NamespaceAccess): string[] {
  return access.kind === "privileged" ? intoNetwork(access) : [...intoNetwork(access), ...WITHOUT_CAPABILITIES];
}

/** Runs what follows with no capability and no way to regain one (inside a user namespace where it is root). */
export const WITHOUT_CAPABILITIES = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"];

/** What `ip link set IF netns …` takes to move an interface from the endpoint's side into the network's namespace. */
export function networkNamespaceTarget(access: NamespaceAccess): string {
  return access.kind === "privileged" ? access.namespace : String(access.innerPid);
}

export function inNetwork(access: NamespaceAccess, binary: string, args: string[], input?: string): Promise<string> {
  const [first, ...rest] = [...intoNetwork(access), binary, ...args];
  return hostCommand(first!, rest, input);
}

export function onEndpointSide(access: NamespaceAccess, binary: string, args: string[], input?: string): Promise<string> {
  const [first, ...rest] = [...intoEndpointSide(access), binary, ...args];
  return hostCommand(first!, rest, input);
}

export interface RootlessStart {
  /** Where the holders' and pasta's output goes. */
  outputFile: string;
  /** Ports the endpoint listens on, forwarded in from the host by pasta. */
  udpPorts: number[];
  tcpPorts: number[];
}

const APPEAR_TIMEOUT_MS = 10_000;

/** Makes the user namespace, both network namespaces and pasta; on failure leaves nothing behind. */
export async function createRootless({ outputFile, udpPorts, tcpPorts }: RootlessStart): Promise<Rootless> {
  const started: number[] = [];
  try {
    const outerPid = spawnDetached("unshare", ["--user", "--map-root-user", "--net", "--mount", "--", "sleep", "infinity"], outputFile);
    started.push(outerPid);
    await waitForOwnNamespace(outerPid, "user", "/proc/self/ns/user");
    const endpointSide = ["nsenter", "--preserve-credentials", "-t", String(outerPid), "--user", "--net", "--mount", "--"];
    // wireguard-go's control socket lives in /run/wireguard, which only the host's root may write: a tmpfs over it
    // in the endpoint side's own mount namespace serves instead.
    await hostCommand(endpointSide[0]!, [...endpointSide.slice(1), "sh", "-c", "ip link set lo up && mkdir -p /run/wireguard 2>/dev/null; mount -t tmpfs -o mode=0700 tmpfs /run/wireguard"]);
    const innerPid = spawnDetached("nsenter", ["--preserve-credentials", "-t", String(outerPid), "--user", "--mount", "--", "unshare", "--net", "--", "sleep", "infinity"], outputFile);
    started.push(innerPid);
    await waitForOwnNamespace(innerPid, "net", `/proc/${outerPid}/ns/net`);
    const pastaPid = spawnDetached("pasta", pastaArguments(outerPid, udpPorts.map(String), tcpPorts.map(String)), outputFile);
    started.push(pastaPid);
    const access: Rootless = { kind: "rootless", outerPid, innerPid, pastaPid };
    await waitForDefaultRoute(endpointSide, pastaPid);
    return access;
  } catch (error) {
    for (const pid of started.reverse()) signal(pid, "SIGKILL");
    throw error;
  }
}

/** Ends pasta and both holders; the namespaces, and every interface in them, go with their last process. */
export function destroyRootless(access: Rootless): void {
  for (const pid of [access.pastaPid, access.innerPid, access.outerPid]) if (isAlive(pid)) signal(pid, "SIGKILL");
}

/**
 * pasta, joining the holder's user and network namespaces, as their only way out. -T/-U none: nothing in the
 * namespace reaches the host's loopback; --no-map-gw: nor the host as the gateway. `udp`/`tcp`: pasta's forward
 * specs from the host into the namespace (a port, or ADDRESS/PORT).
 */
export function pastaArguments(holderPid: number, udp: string[], tcp: string[]): string[] {
  const forwards = (flag: string, specs: string[]) => (specs.length > 0 ? specs.flatMap((spec) => [flag, spec]) : [flag, "none"]);
  return [
    "--foreground", "--quiet", "--no-map-gw", ...forwards("-u", udp), ...forwards("-t", tcp), "-T", "none", "-U", "none",
    "--config-net", "--netns", `/proc/${holderPid}/ns/net`, "--userns", `/proc/${holderPid}/ns/user`,
  ];
}

/** Waits until the holder `pid` has a `kind` namespace of its own, not the one at `notThis`. */
export async function waitForOwnNamespace(pid: number, kind: "user" | "net", notThis: string): Promise<void> {
  const other = await readlink(notThis);
  const deadline = Date.now() + APPEAR_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new ClanError("NetworkFailed", `the holder of a rootless ${kind} namespace exited at start (are unprivileged user namespaces allowed?)`);
    const own = await readlink(`/proc/${pid}/ns/${kind}`).catch(() => other);
    if (own !== other) return;
    await sleep(10);
  }
  throw new ClanError("NetworkFailed", `no rootless ${kind} namespace within ${APPEAR_TIMEOUT_MS} ms`);
}

/** Waits until pasta has configured the namespace that `into` enters; pasta copies the host's default route. */
export async function waitForDefaultRoute(into: string[], pastaPid: number): Promise<void> {
  const deadline = Date.now() + APPEAR_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pastaPid)) throw new ClanError("NetworkFailed", "pasta exited at start (does the host have a default route?)");
    if ((await hostCommand(into[0]!, [...into.slice(1), "ip", "route", "show", "default"]).catch(() => "")).trim()) return;
    await sleep(20);
  }
  throw new ClanError("NetworkFailed", `pasta configured no default route within ${APPEAR_TIMEOUT_MS} ms`);
}
