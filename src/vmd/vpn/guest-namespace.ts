import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { isAlive, readTail, signal, spawnDetached } from "../qemu-process.js";
import { identityPrefix, type VmIdentity } from "../vm-identity.js";
import { hostCommand } from "./host-command.js";
import { pastaArguments, waitForDefaultRoute, waitForOwnNamespace, WITHOUT_CAPABILITIES } from "./namespace-access.js";

// Where the QEMU of a VPN run by the guest itself (placement "guest") lives: a user and network namespace of its
// own whose only way out is pasta, the rootless layout's outer namespace (namespace-access.ts). QEMU's user
// networking there is unrestricted, as the guest's VPN needs, but its 10.0.2.2 is this namespace's loopback, which
// holds nothing but the VM's own forwards; pasta maps neither the host's loopback nor its gateway, and the host's
// own addresses are the namespace's (pasta copies them), so the guest reaches the internet and not the host.
//
// The namespace belongs to QEMU's own user in both layouts: a root clan-vmd makes it as the network's uid, so
// that pasta, the holder and QEMU all run as that uid and nothing here runs as root.

export const GuestNamespace = z.object({ holderPid: z.number().int().positive(), pastaPid: z.number().int().positive() }).strict();
export type GuestNamespace = z.infer<typeof GuestNamespace>;

export interface GuestNamespaceStart {
  /** Who QEMU runs as (vm-identity.ts); undefined: clan-vmd's own user. */
  identity: VmIdentity | undefined;
  /** Where the holder's and pasta's output goes. */
  outputFile: string;
  /** Host ports on 127.0.0.1 that pasta forwards to the same port on the namespace's loopback, where QEMU's hostfwd listens. */
  tcpForwards: number[];
}

/** Makes the namespace and starts pasta; on failure leaves nothing behind. */
export async function createGuestNamespace({ identity, outputFile, tcpForwards }: GuestNamespaceStart): Promise<GuestNamespace> {
  const asOwner = identityPrefix(identity);
  const started: number[] = [];
  try {
    // The holder brings the loopback up before it sleeps: pasta delivers the forwards there.
    const holder = [...asOwner, "unshare", "--user", "--map-root-user", "--net", "--", "sh", "-c", "ip link set lo up && exec sleep infinity"];
    const holderPid = spawnDetached(holder[0]!, holder.slice(1), outputFile);
    started.push(holderPid);
    await waitForOwnNamespace(holderPid, "net", "/proc/self/ns/net");
    const pasta = [...asOwner, "pasta", ...pastaArguments(holderPid, [], tcpForwards.map((port) => `127.0.0.1/${port}`))];
    const pastaPid = spawnDetached(pasta[0]!, pasta.slice(1), outputFile);
    started.push(pastaPid);
    const into = enterPrefix(identity, holderPid);
    await waitForDefaultRoute(into, pastaPid);
    await waitForLoopback(into);
    return { holderPid, pastaPid };
  } catch (error) {
    for (const pid of started.reverse()) signal(pid, "SIGKILL");
    // pasta's own last word names the cause, e.g. a forward's port that something on the host already holds.
    const said = (await readTail(outputFile, 2000)).split("\n").filter((line) => line.trim() && !line.startsWith("Failed to send")).at(-1);
    throw said ? new ClanError("NetworkFailed", `${errorMessage(error)}: ${said.trim()}`) : error;
  }
}

/**
 * The prefix that starts QEMU in the namespace, as its owner, with no capability left there: a guest that takes
 * QEMU over cannot reconfigure the namespace (its routes, its loopback).
 */
export function qemuIntoGuestNamespace(identity: VmIdentity | undefined, namespace: GuestNamespace): string[] {
  return [...enterPrefix(identity, namespace.holderPid), ...WITHOUT_CAPABILITIES];
}

/** Ends pasta and the holder; the namespaces go with their last process. */
export function destroyGuestNamespace(namespace: GuestNamespace): void {
  for (const pid of [namespace.pastaPid, namespace.holderPid]) if (isAlive(pid)) signal(pid, "SIGKILL");
}

function enterPrefix(identity: VmIdentity | undefined, holderPid: number): string[] {
  return [...identityPrefix(identity), "nsenter", "--preserve-credentials", "-t", String(holderPid), "--user", "--net", "--"];
}

const LOOPBACK_TIMEOUT_MS = 10_000;

async function waitForLoopback(into: string[]): Promise<void> {
  const deadline = Date.now() + LOOPBACK_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const link = await hostCommand(into[0]!, [...into.slice(1), "ip", "-o", "link", "show", "lo"]);
    if (/<[^>]*\bUP\b/.test(link)) return;
    await sleep(20);
  }
  throw new ClanError("NetworkFailed", `the guest's namespace brought its loopback up not within ${LOOPBACK_TIMEOUT_MS} ms`);
}
