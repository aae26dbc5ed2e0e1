import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceNames } from "../../src/vmd/vpn/namespace.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason, stopProcess } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { ensureTestUser, type TestUser } from "../helpers/test-user.js";
import { INTERNET_PREFIX, VpnHomes, type Home } from "../helpers/vpn-homes.js";

// The VPN of a clan-vmd that runs as an ordinary user (the NixOS host module's user unit): home a's clan-vmd runs
// as the test user, without any privilege, and makes its namespaces rootless (a user namespace, pasta for the
// endpoint's sockets); home b's is root, with named namespaces. The member in home a reaches its peer over
// WireGuard, and as the attacker its guest tries to read a secret that home a serves on its loopback and on its
// address: it must read nothing. QEMU runs as the user with no capability left in the namespace.

const needs = ["ip", "wireguard-go", "wg", "yggdrasil", "yggdrasilctl", "nft", "qemu-system-x86_64", "dbus-daemon", "pasta", "nsenter", "socat", "useradd"];
const isRoot = process.getuid?.() === 0;
const PORT = 51820;
const YGGDRASIL_PORT = 12_345;
const SECRET_PORT = 47_000 + (process.pid % 1000);

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`a VPN without privileges ${skipReason(...needs)}${isRoot ? "" : " (the test needs root to build its homes)"}`, () => {
  const homes = new VpnHomes(`cr${process.pid.toString(36)}`);
  const secret = `home-secret-${process.pid}`;
  let user: TestUser;
  let a: Home;
  let b: Home;
  let generations: string;
  let secretServer: ResultPromise | undefined;

  beforeAll(async () => {
    user = await ensureTestUser();
    const [homeA, homeB] = await homes.createTwo();
    // Home a's own services: on its loopback and on its address. The guest in home a must read neither.
    secretServer = execa("ip", ["netns", "exec", homeA, "socat", `TCP-LISTEN:${SECRET_PORT},fork,reuseaddr`, `SYSTEM:echo ${secret}`], { reject: false });
    a = await homes.startVmd(homeA, `${INTERNET_PREFIX}.1`, ["family", "mesh"], user);
    b = await homes.startVmd(homeB, `${INTERNET_PREFIX}.2`, ["family", "mesh"]);
    const aliceKey = await a.vms.vpnPublicKey("family");
    const bobKey = await b.vms.vpnPublicKey("family");
    generations = await mkdtemp(join(tmpdir(), "clan-vpn-rootless-"));
    await execa("chmod", ["0755", generations]);
    const vpnGeneration = (name: string, vpn: Record<string, unknown>) =>
      makeGeneration(join(generations, name), { generation: name, vm: { stateDiskMiB: 0, network: { mode: "vpn", vpn: { kind: "wireguard", placement: "host-namespace", listenPort: PORT, ...vpn } } } });
    const alice = await vpnGeneration("alice", { address: "10.77.0.2", peers: [{ name: "bob", publicKey: bobKey, endpoint: `${b.address}:${PORT}`, allowedIps: ["10.77.0.3/32"] }] });
    const bob = await vpnGeneration("bob", { address: "10.77.0.3", peers: [{ name: "alice", publicKey: aliceKey, endpoint: `${a.address}:${PORT}`, allowedIps: ["10.77.0.2/32"] }] });
    // A second network over Yggdrasil: the rootless node listens, and the peering comes in through pasta's forward.
    const yggdrasil = (name: string, vpn: Record<string, unknown>) =>
      makeGeneration(join(generations, name), { generation: name, vm: { stateDiskMiB: 0, network: { mode: "vpn", vpn: { kind: "yggdrasil", placement: "host-namespace", ...vpn } } } });
    const carol = await yggdrasil("carol", { listen: [`tcp://${a.address}:${YGGDRASIL_PORT}`] });
    const dave = await yggdrasil("dave", { peers: [`tcp://${a.address}:${YGGDRASIL_PORT}`] });
    // Dave dials carol once her node listens: pasta accepts a connection for a port before anything in the
    // namespace listens on it and then closes it, and Yggdrasil retries a failed peer only a minute later.
    await Promise.all([a.vms.start("family", alice), b.vms.start("family", bob), a.vms.start("mesh", carol)]);
    await b.vms.start("mesh", dave);
  }, 180_000);

  afterAll(async () => {
    await homes.cleanUp([a, b].filter(Boolean));
    if (secretServer) await stopProcess(secretServer);
    if (generations) await rm(generations, { recursive: true, force: true });
  });

  const guest = (home: Home, script: string) => home.vms.guestExec("family", ["/bin/sh", "-c", script], 40);
  const vpnRecord = async () =>
    JSON.parse(await readFile(join(a.runtimeRoot, "family", "vpn.json"), "utf8")) as { endpointPid: number; access: { kind: string; outerPid: number; innerPid: number; pastaPid: number } };
  const status = async (pid: number) => readFile(`/proc/${pid}/status`, "utf8");
  const uidOf = async (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(await status(pid))?.[1]);

  it("the user's clan-vmd brings the VPN up in rootless namespaces, and the member reaches its peer over WireGuard", async () => {
    const record = await vpnRecord();
    expect(record.access.kind).toBe("rootless");
    for (const pid of [record.endpointPid, record.access.outerPid, record.access.innerPid, record.access.pastaPid]) expect(await uidOf(pid)).toBe(user.uid);
    // No named namespace: the user could not have made one.
    expect(await VpnHomes.clanNamespaces()).not.toContain(namespaceNames(a.runtimeRoot, "family").namespace);
    await waitUntil(async () => ((await guest(a, "ping -c 1 -W 2 10.77.0.3")).exitCode === 0 ? true : undefined), "alice to reach bob over the VPN", 40_000);
    expect((await guest(b, "ping -c 1 -W 2 10.77.0.2")).exitCode).toBe(0);
    const peers = await a.vms.peers("family");
    expect(peers).toEqual([expect.objectContaining({ name: "bob", connected: true })]);
  }, 60_000);

  it("the guest reads nothing from its home: not its loopback's services, not its address, not through the gateway", async () => {
    // Control: the service answers inside home a.
    for (const host of ["127.0.0.1", `${INTERNET_PREFIX}.1`]) {
      const inHome = await execa("ip", ["netns", "exec", a.namespace, "socat", "-T", "3", "-", `TCP:${host}:${SECRET_PORT}`], { reject: false, input: "" });
      expect(inHome.stdout).toContain(secret);
    }
    const targets = [`${INTERNET_PREFIX}.1`, `${INTERNET_PREFIX}.2`, "169.254.0.1", "127.0.0.1"];
    const probes = targets.map((host) => `echo "${host} => $(sleep 2 | timeout 8 nc -w 5 ${host} ${SECRET_PORT} 2>&1 | head -c 200)"`).join("\n");
    const attack = await guest(a, probes);
    expect(attack.stdout.trim().split("\n")).toHaveLength(targets.length);
    expect(attack.stdout).not.toContain(secret);
    expect((await guest(a, `ping -c 1 -W 2 ${INTERNET_PREFIX}.1`)).exitCode).not.toBe(0);
  }, 60_000);

  it("QEMU runs as the user, under its seccomp sandbox, with no capability in the namespace", async () => {
    const qemu = (await a.vms.list()).find((vm) => vm.network === "family")!.pid;
    const text = await status(qemu);
    expect(await uidOf(qemu)).toBe(user.uid);
    expect(text).toMatch(/^Seccomp:\s+2$/m);
    expect(text).toMatch(/^CapEff:\s+0+$/m);
    expect(text).toMatch(/^CapBnd:\s+0+$/m);
  });

  it("over Yggdrasil the rootless node is peered with through pasta's forwarded port, and the VMs ping each other", async () => {
    const vmAddress = async (home: Home) => {
      const match = /init: eth0 has ([0-9a-f:]+)\/128/.exec(await home.vms.consoleTail("mesh", 64 * 1024));
      if (!match) throw new Error(`no IPv6 address in the console of ${home.namespace}`);
      return match[1]!;
    };
    await waitUntil(async () => ((await a.vms.peers("mesh")).length === 1 ? true : undefined), "carol's node to list dave's", 30_000);
    const target = await vmAddress(b);
    await waitUntil(async () => ((await a.vms.guestExec("mesh", ["ping", "-6", "-c", "1", "-W", "2", target], 20)).exitCode === 0 ? true : undefined), "carol's VM to reach dave's", 30_000);
    expect((await b.vms.guestExec("mesh", ["ping", "-6", "-c", "1", "-W", "2", await vmAddress(a)], 20)).exitCode).toBe(0);
  }, 90_000);

  it("a restarted clan-vmd re-adopts the VPN from its record: peers, status and the VM's traffic carry on", async () => {
    const before = await vpnRecord();
    await a.restartVmd();
    expect(a.output()).toMatch(/re-adopted running VMs: (family, mesh|mesh, family)/);
    expect(await vpnRecord()).toEqual(before);
    expect(await a.vms.peers("family")).toEqual([expect.objectContaining({ name: "bob", connected: true })]);
    expect((await guest(a, "ping -c 1 -W 2 10.77.0.3")).exitCode).toBe(0);
  }, 60_000);

  it("stopping the VM ends the endpoint, pasta and both namespace holders", async () => {
    const record = await vpnRecord();
    await a.vms.stop("family");
    for (const pid of [record.endpointPid, record.access.outerPid, record.access.innerPid, record.access.pastaPid]) {
      await waitUntil(async () => ((await status(pid).catch(() => "")) === "" || /^State:\s+Z/m.test(await status(pid).catch(() => "")) ? true : undefined), `pid ${pid} to exit`, 10_000);
    }
  });
});
