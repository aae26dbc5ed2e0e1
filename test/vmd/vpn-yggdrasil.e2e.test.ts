import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { INTERNET_PREFIX, VpnHomes, type Home } from "../helpers/vpn-homes.js";

// The same two homes as vpn.e2e.test.ts, with a network whose VPN is Yggdrasil: each clan-vmd runs a yggdrasil
// node for the network in clan-vmd's namespace with its tun moved into the network's namespace. The nodes peer
// over the veth "internet", and the VMs reach each other at addresses of their nodes' /64s.

const needs = ["ip", "yggdrasil", "yggdrasilctl", "nft", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const PORT = 12345;

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`Yggdrasil per network on the host ${skipReason(...needs)}${isRoot ? "" : " (needs root for namespaces)"}`, () => {
  const homes = new VpnHomes(`cy${process.pid.toString(36)}`);
  let a: Home;
  let b: Home;
  let generations: string;

  beforeAll(async () => {
    const [homeA, homeB] = await homes.createTwo();
    a = await homes.startVmd(homeA, `${INTERNET_PREFIX}.1`, ["family"]);
    b = await homes.startVmd(homeB, `${INTERNET_PREFIX}.2`, ["family"]);
    generations = await mkdtemp(join(tmpdir(), "clan-ygg-generations-"));
    const yggdrasil = (name: string, vpn: Record<string, unknown>) =>
      makeGeneration(join(generations, name), { generation: name, vm: { stateDiskMiB: 0, network: { mode: "vpn", vpn: { kind: "yggdrasil", placement: "host-namespace", ...vpn } } } });
    const alice = await yggdrasil("alice", { listen: [`tcp://${a.address}:${PORT}`] });
    const bob = await yggdrasil("bob", { peers: [`tcp://${a.address}:${PORT}`] });
    await a.vms.start("family", alice);
    await b.vms.start("family", bob);
  });

  afterAll(async () => {
    await homes.cleanUp([a, b].filter(Boolean));
    if (generations) await rm(generations, { recursive: true, force: true });
    expect(await VpnHomes.clanNamespaces()).toEqual([]);
  });

  const vmAddress = async (home: Home) => {
    const match = /init: eth0 has ([0-9a-f:]+)\/128/.exec(await home.vms.consoleTail("family", 64 * 1024));
    if (!match) throw new Error(`no IPv6 address in the console of ${home.namespace}`);
    return match[1]!;
  };

  it("the nodes peer over the veth, and each side lists the other", async () => {
    const [peer] = await waitUntil(async () => {
      const peers = await a.vms.peers("family");
      return peers.length === 1 ? peers : undefined;
    }, "alice's node to list bob's", 30_000);
    expect(peer).toMatchObject({ connected: true, endpoint: expect.stringContaining(b.address) });
    expect(peer!.allowedIps[0]).toMatch(/^2[0-9a-f]{2}:/);
    const status = await waitUntil(async () => (await b.vms.list()).find((vm) => vm.network === "family" && vm.vpnPeers === 1), "bob's VPN status");
    expect(status).toMatchObject({ vpnState: "up", vpnPeers: 1 });
  });

  it("the VMs ping each other over Yggdrasil, at addresses of their nodes' /64s", async () => {
    const target = await vmAddress(b);
    expect(target).toMatch(/^3[0-9a-f]{2}:/);
    await waitUntil(async () => ((await a.vms.guestExec("family", ["ping", "-6", "-c", "1", "-W", "2", target], 20)).exitCode === 0 ? true : undefined), "alice's VM to reach bob's", 30_000);
    expect((await b.vms.guestExec("family", ["ping", "-6", "-c", "2", "-W", "2", await vmAddress(a)], 20)).exitCode).toBe(0);
  });

  it("the VM reaches neither host", async () => {
    for (const address of [`${INTERNET_PREFIX}.1`, `${INTERNET_PREFIX}.2`]) {
      expect((await a.vms.guestExec("family", ["ping", "-c", "2", "-W", "2", address], 20)).exitCode, address).not.toBe(0);
    }
  });

  it("blocking a Yggdrasil peer is refused with the reason, not half done", async () => {
    await expect(a.vms.blockPeer("family", "anyone")).rejects.toThrow(/not supported yet/);
  });
});
