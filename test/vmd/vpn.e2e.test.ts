import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clanctl, startDaemon, waitUntil, type DaemonProcess } from "../helpers/daemons.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { INTERNET_PREFIX, VpnHomes, type Home } from "../helpers/vpn-homes.js";

// Two homes joined by a veth "internet", a clan-vmd in each, a test-guest VM in each that joins network "family"
// over real wireguard-go endpoints in network namespaces that clan-vmd makes. A VM of another network, "club",
// on home a must reach neither family VM nor any host; a blocked peer is cut off at once. Home a also runs
// clan-sessiond, so that status, peers and blocking are checked where users meet them: clanctl.

const needs = ["ip", "wireguard-go", "wg", "nft", "qemu-system-x86_64", "dbus-daemon", "gdbus"];
const isRoot = process.getuid?.() === 0;
const PORT = 51820;

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`VPN per network on the host ${skipReason(...needs)}${isRoot ? "" : " (needs root for namespaces)"}`, () => {
  const homes = new VpnHomes(`ct${process.pid.toString(36)}`);
  let a: Home;
  let b: Home;
  let generations: string;
  let sessiond: DaemonProcess | undefined;
  let sessionEnv: Record<string, string>;
  let notifications: { shown: ShownNotification[]; stop(): void } | undefined;

  beforeAll(async () => {
    const [homeA, homeB] = await homes.createTwo();
    a = await homes.startVmd(homeA, `${INTERNET_PREFIX}.1`, ["family", "club", "school"]);
    b = await homes.startVmd(homeB, `${INTERNET_PREFIX}.2`, ["family"]);
    // Each member's key is made by its own clan-vmd; the network's flake would list them as peers.
    const aliceKey = await a.vms.vpnPublicKey("family");
    const bobKey = await b.vms.vpnPublicKey("family");
    generations = await mkdtemp(join(tmpdir(), "clan-vpn-generations-"));
    const vpnGeneration = (name: string, vpn: Record<string, unknown>) =>
      makeGeneration(join(generations, name), { generation: name, vm: { stateDiskMiB: 0, network: { mode: "vpn", vpn: { kind: "wireguard", placement: "host-namespace", ...vpn } } } });
    const alice = await vpnGeneration("alice", {
      address: "10.77.0.2",
      listenPort: PORT,
      peers: [{ name: "bob", publicKey: bobKey, endpoint: `${b.address}:${PORT}`, allowedIps: ["10.77.0.3/32"] }],
    });
    const bob = await vpnGeneration("bob", {
      address: "10.77.0.3",
      listenPort: PORT,
      peers: [{ name: "alice", publicKey: aliceKey, endpoint: `${a.address}:${PORT}`, allowedIps: ["10.77.0.2/32"] }],
    });
    // The club claims both family addresses and points at both family endpoints, with keys they do not know.
    const club = await vpnGeneration("club", {
      address: "10.77.0.9",
      listenPort: PORT + 1,
      peers: [
        { name: "alice", publicKey: aliceKey, endpoint: `${a.address}:${PORT}`, allowedIps: ["10.77.0.2/32"] },
        { name: "bob", publicKey: bobKey, endpoint: `${b.address}:${PORT}`, allowedIps: ["10.77.0.3/32", "0.0.0.0/1"] },
      ],
    });
    await Promise.all([a.vms.start("family", alice), b.vms.start("family", bob), a.vms.start("club", club)]);
    const configFile = join(generations, "config.json");
    const network = (workspace: string, colour: string, profile: string) => ({ workspaces: [workspace], colour, source: { profile }, onLeave: { action: "keep" } });
    await writeFile(configFile, JSON.stringify({ networks: { family: network("1:family", "#e06c75", alice), club: network("2:club", "#56b6c2", club) } }));
    sessionEnv = { DBUS_SESSION_BUS_ADDRESS: a.busAddress, CLAN_DESKTOP_CONFIG: configFile, XDG_STATE_HOME: join(generations, "state") };
    sessiond = startDaemon("clan-sessiond", ["--backend", "none"], sessionEnv);
    await sessiond.waitForOutput(/serving org\.clan\.Desktop\.Session1/);
    notifications = await startNotificationServer(a.busAddress);
  });

  afterAll(async () => {
    notifications?.stop();
    await sessiond?.stop();
    await homes.cleanUp([a, b].filter(Boolean));
    if (generations) await rm(generations, { recursive: true, force: true });
    expect(await VpnHomes.clanNamespaces()).toEqual([]);
  });

  /** `ping` inside the guest, through its guest agent; true when a reply came back. */
  const ping = async (home: Home, network: string, address: string, count = 1) =>
    (await home.vms.guestExec(network, ["ping", "-c", String(count), "-W", "2", address], 20)).exitCode === 0;
  /** WireGuard retries a lost first handshake after 5 s; a reply within 30 s proves the path. */
  const eventuallyPings = (home: Home, network: string, address: string) =>
    waitUntil(async () => ((await ping(home, network, address)) ? true : undefined), `${network} on ${home.namespace} to reach ${address}`, 30_000);

  it("the VMs of one network in two homes ping each other through the VPN", async () => {
    await eventuallyPings(a, "family", "10.77.0.3");
    await eventuallyPings(b, "family", "10.77.0.2");
    expect(await ping(a, "family", "10.77.0.3", 3)).toBe(true);
  });

  it("members reach each other by name: the peer names of the network's VPN", async () => {
    expect(await ping(a, "family", "bob", 2)).toBe(true);
    expect(await ping(b, "family", "alice.family.clan", 2)).toBe(true);
    expect(await ping(a, "family", "alice", 1)).toBe(false);
  });

  it("a network VM reaches neither host, its own namespace, nor anything beyond its peers", async () => {
    for (const address of [`${INTERNET_PREFIX}.1`, `${INTERNET_PREFIX}.2`, "169.254.0.1", "10.77.0.9"]) {
      expect(await ping(a, "family", address, 2), `family VM reached ${address}`).toBe(false);
    }
  });

  it("a VM of another network on the same host reaches neither family VM, nor the hosts", async () => {
    for (const address of ["10.77.0.2", "10.77.0.3", `${INTERNET_PREFIX}.1`, `${INTERNET_PREFIX}.2`, "169.254.0.1"]) {
      expect(await ping(a, "club", address, 2), `club VM reached ${address}`).toBe(false);
    }
    // The family endpoints never completed a handshake with the club's key.
    expect((await a.vms.peers("club")).every((peer) => peer.lastHandshake === 0)).toBe(true);
  });

  it("clan-vmd and clan-sessiond publish the VPN's state; clanctl lists peers with their last handshake", async () => {
    const status = await waitUntil(async () => (await a.vms.list()).find((vm) => vm.network === "family" && vm.vpnPeers === 1), "family's VPN status to count bob");
    expect(status).toMatchObject({ vpnState: "up", vpnPeers: 1 });
    expect(status.vpnLastHandshake).toBeGreaterThan(Date.now() - 180_000);
    expect((await a.vms.list()).find((vm) => vm.network === "club")).toMatchObject({ vpnState: "up", vpnPeers: 0, vpnLastHandshake: 0 });
    const listed = await waitUntil(async () => {
      const { networks } = JSON.parse((await clanctl(["status", "--json"], sessionEnv)).stdout) as { networks: { name: string; vpnPeers: number }[] };
      return networks.find((n) => n.name === "family" && n.vpnPeers === 1);
    }, "clan-sessiond to publish family's VPN");
    expect(listed).toMatchObject({ vpnState: "up", vpnPeers: 1 });
    expect((await clanctl(["status"], sessionEnv)).stdout).toMatch(/family .* up, 1 peer, handshake \d+ s ago/);
    const peers = JSON.parse((await clanctl(["peers", "family", "--json"], sessionEnv)).stdout);
    expect(peers).toEqual([expect.objectContaining({ name: "bob", connected: true, blocked: false, endpoint: `${b.address}:${PORT}`, allowedIps: ["10.77.0.3/32"] })]);
    expect((await clanctl(["peers", "family"], sessionEnv)).stdout).toMatch(/^bob +connected +handshake \d+ s ago +10\.77\.0\.3\/32/);
  });

  it("a blocked peer is cut off at once, in both directions, and unblocking lets it back", async () => {
    const blocked = await clanctl(["block", "family", "bob"], sessionEnv);
    expect(blocked.stdout, blocked.all).toBe("family: bob is blocked");
    expect(await ping(a, "family", "10.77.0.3", 2)).toBe(false);
    expect(await ping(b, "family", "10.77.0.2", 2)).toBe(false);
    expect((await a.vms.peers("family"))[0]).toMatchObject({ name: "bob", blocked: true });
    expect((await clanctl(["block", "family", "mallory"], sessionEnv)).stderr).toContain('the network has no peer "mallory"');
    expect((await clanctl(["unblock", "family", "bob"], sessionEnv)).exitCode).toBe(0);
    await eventuallyPings(b, "family", "10.77.0.2");
    const unblocked = (body: string) => waitUntil(() => notifications!.shown.find((n) => n.summary === "family: VPN peer unblocked" && n.body.includes(body)), "the unblock notification");
    const bobKey = (await a.vms.peers("family"))[0]!.publicKey;
    expect(await unblocked("bob")).toEqual({ summary: "family: VPN peer unblocked", body: `peer bob (${bobKey}) may reach the network's VPN again` });

    // Straight to clan-vmd with gdbus, as any program of the user's may: the user is told all the same.
    const seen = notifications!.shown.length;
    expect((await clanctl(["block", "family", "bob"], sessionEnv)).exitCode).toBe(0);
    const call = await execa("gdbus", ["call", "--session", "--dest", "org.clan.Desktop.VMs1", "--object-path", "/org/clan/Desktop/VMs1", "--method", "org.clan.Desktop.VMs1.Manager.UnblockPeer", "family", "bob"], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: a.busAddress } });
    expect(call.exitCode).toBe(0);
    await waitUntil(() => notifications!.shown.slice(seen).find((n) => n.summary === "family: VPN peer unblocked"), "the second unblock notification");
    await eventuallyPings(b, "family", "10.77.0.2");
  });

  it("keys are kept in clan-vmd's state, readable by root only", async () => {
    const key = await stat(join(a.runtimeRoot, "..", "state", "family", "vpn", "wireguard.key"));
    expect(key.mode & 0o777).toBe(0o600);
    const dir = await stat(join(a.runtimeRoot, "..", "state", "family", "vpn"));
    expect(dir.mode & 0o777).toBe(0o700);
  });

  it("a VPN whose listen port another program holds fails with an error that names the port, and leaves nothing behind", async () => {
    const takenPort = PORT + 10;
    const holder = execa("ip", ["netns", "exec", a.namespace, "socat", "-u", `UDP4-RECV:${takenPort}`, "-"], { reject: false, stdin: "ignore" });
    try {
      await waitUntil(async () => ((await execa("ip", ["netns", "exec", a.namespace, "ss", "-Hulpn", `sport = :${takenPort}`])).stdout.includes("socat") ? true : undefined), "socat to hold the port");
      const before = await VpnHomes.clanNamespaces();
      const school = await makeGeneration(join(generations, "school"), {
        generation: "school",
        vm: { stateDiskMiB: 0, network: { mode: "vpn", vpn: { kind: "wireguard", placement: "host-namespace", address: "10.78.0.2", listenPort: takenPort, peers: [] } } },
      });
      await expect(a.vms.start("school", school)).rejects.toThrow(`the VPN's listenPort ${takenPort}/udp is already in use on this host`);
      expect(await VpnHomes.clanNamespaces()).toEqual(before);
      expect((await a.vms.list()).find((vm) => vm.network === "school")).toMatchObject({ state: "failed", vpnState: "none" });
      expect(await ping(a, "family", "10.77.0.3", 1)).toBe(true);
    } finally {
      holder.kill();
      await holder;
    }
  });

  it("stopping a VM removes its namespace and its endpoint", async () => {
    const before = await VpnHomes.clanNamespaces();
    await a.vms.stop("club");
    const after = await VpnHomes.clanNamespaces();
    expect(after.length).toBe(before.length - 1);
    expect((await a.vms.list()).find((vm) => vm.network === "club")).toMatchObject({ state: "stopped", vpnState: "none" });
  });
});
