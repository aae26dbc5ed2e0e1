import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ClanError, errorMessage } from "../../shared/errors.js";
import type { VpnPeerInfo, VpnStatusFields } from "../../shared/vm-api.js";
import type { VmSpec } from "../../shared/vm-spec.js";
import type { VmIdentity } from "../vm-identity.js";
import { isAlive, signal, waitForExit } from "../qemu-process.js";
import { blockedSetCommand } from "./firewall.js";
import { inNetwork, NamespaceAccess, qemuIntoNetwork } from "./namespace-access.js";
import { createGuestNamespace, destroyGuestNamespace, GuestNamespace, qemuIntoGuestNamespace } from "./guest-namespace.js";
import { createNamespace, deleteNamespace, namespaceNames, routeToVm, type NamespaceNames } from "./namespace.js";
import { readBlocked, vpnStatePaths, writeBlocked, ensureWireguardKey } from "./vpn-state.js";
import { NAMESPACE_GATEWAY, NAMESPACE_GATEWAY6, VpnSpec, type WireguardPeer, type WireguardVpn, type YggdrasilVpn } from "../../shared/vpn-spec.js";
import { addPeer, readWireguardState, removePeer, startWireguardEndpoint } from "./wireguard-endpoint.js";
import { readYggdrasilPeers, startYggdrasilEndpoint, type YggdrasilPeer } from "./yggdrasil-endpoint.js";

// A network's VPN on the host side (docs/vpn.md): for a generation whose vm.json asks for network mode "vpn",
// the network's namespace, its endpoint and its firewall come up before QEMU and go down after it: in named
// namespaces where clan-vmd has the capabilities for them, in rootless ones otherwise; in the guest when vm.json
// asks for placement "guest", with QEMU in a namespace of its own. It also answers
// for the VPN's members: list, block, unblock, and the status fields of the VM's status.

/** How QEMU connects the VM, decided by the generation and, for a VPN, by where it runs. */
export type QemuNetwork =
  | { kind: "none" }
  /** QEMU's user-mode networking, confined (restrict=on): the guest reaches nothing, only the forwards reach it. */
  | { kind: "user"; forwards: VmSpec["network"]["forwards"]; kernelParams: string[] }
  /**
   * Unconfined user-mode networking for a VPN run by the guest itself, with QEMU inside a namespace of its own
   * whose only way out is pasta (guest-namespace.ts). `enter`: the prefix that starts QEMU there, already as QEMU's
   * own user.
   */
  | { kind: "outbound"; enter: string[]; forwards: VmSpec["network"]["forwards"]; kernelParams: string[] }
  /** `enter`: the command prefix that starts QEMU inside the network's namespace (namespace-access.ts). */
  | { kind: "tap"; enter: string[]; tap: string; kernelParams: string[]; hostsFile?: string };

export interface NetworkVpnOptions {
  network: string;
  /** Who QEMU runs as: the owner of the VM's tap, which QEMU opens without privileges. */
  identity: VmIdentity | undefined;
  runtimeRoot: string;
  runtimeDir: string;
  stateDir: string;
  wireguardGoBinary: string;
  yggdrasilBinary: string;
  canCreateNamespaces: boolean;
  log: (message: string) => void;
  changed: (fields: VpnStatusFields) => void;
}

const RuntimeRecord = z
  .object({ namespace: z.string(), vpnInterface: z.string(), tap: z.string(), access: NamespaceAccess, endpointPid: z.number().int().positive(), spec: VpnSpec })
  .strict();
type RuntimeRecord = z.infer<typeof RuntimeRecord>;
/** What vpn.json holds for a VPN in the guest: the namespace QEMU runs in. */
const GuestRecord = z.object({ placement: z.literal("guest"), namespace: GuestNamespace }).strict();
const VpnRecord = z.union([RuntimeRecord, GuestRecord]);
type VpnRecord = z.infer<typeof VpnRecord>;

const POLL_MS = 3000;
/** WireGuard renews a live session's handshake every two minutes; older means the peer is not there now. */
const CONNECTED_WITHIN_MS = 180_000;
export const NO_VPN: VpnStatusFields = { vpnState: "none", vpnPeers: 0, vpnLastHandshake: 0 };

export class NetworkVpn {
  private running: RuntimeRecord | undefined;
  private inGuest: GuestNamespace | undefined;
  private poll: NodeJS.Timeout | undefined;
  private current: VpnStatusFields = NO_VPN;
  private readonly state;

  constructor(private readonly options: NetworkVpnOptions) {
    this.state = vpnStatePaths(options.stateDir);
  }

  get fields(): VpnStatusFields {
    return { ...this.current };
  }

  private get recordFile(): string {
    return join(this.options.runtimeDir, "vpn.json");
  }

  /** Called with the runtime directory in place and before QEMU starts. */
  async prepare(vm: VmSpec): Promise<QemuNetwork> {
    const { mode, forwards, vpn } = vm.network;
    if (mode === "none") return { kind: "none" };
    if (mode === "user" || !vpn) return { kind: "user", forwards, kernelParams: [] };
    if (vpn.placement === "guest") return this.prepareInGuest(forwards);
    this.publish({ vpnState: "starting", vpnPeers: 0, vpnLastHandshake: 0 });
    const names = namespaceNames(this.options.runtimeRoot, this.options.network);
    const blocked = vpn.kind === "wireguard" ? await readBlocked(this.state) : [];
    // Without the capabilities for named namespaces, the same layout is made rootless (namespace-access.ts).
    const rootless = this.options.canCreateNamespaces
      ? undefined
      : { outputFile: join(this.options.runtimeDir, "namespace.out"), udpPorts: vpn.kind === "wireguard" ? [vpn.listenPort] : [], tcpPorts: vpn.kind === "yggdrasil" ? listenPorts(vpn) : [] };
    let access: NamespaceAccess | undefined;
    try {
      access = await createNamespace({ names, blockedPrefixes: vpn.kind === "wireguard" ? blockedPrefixes(vpn.peers, blocked) : [], tapOwner: this.options.identity, ...(rootless ? { rootless } : {}) });
      const started = vpn.kind === "wireguard" ? await this.startWireguard(names, access, vpn, blocked) : await this.startYggdrasil(names, access, vpn);
      this.running = { ...names, access, endpointPid: started.pid, spec: vpn };
      await writeFile(this.recordFile, JSON.stringify(this.running), { mode: 0o600 });
      this.startPolling();
      return { kind: "tap", enter: qemuIntoNetwork(access), tap: names.tap, kernelParams: started.kernelParams, ...(started.hostsFile ? { hostsFile: started.hostsFile } : {}) };
    } catch (error) {
      if (access) await deleteNamespace(access, names).catch((cleanup: unknown) => this.options.log(`${this.options.network}: ${errorMessage(cleanup)}`));
      this.publish({ vpnState: "down", vpnPeers: 0, vpnLastHandshake: 0 });
      throw error;
    }
  }

  /** The guest runs the VPN; QEMU gets a namespace whose loopback is not the host's (guest-namespace.ts). */
  private async prepareInGuest(forwards: VmSpec["network"]["forwards"]): Promise<QemuNetwork> {
    const { identity } = this.options;
    const namespace = await createGuestNamespace({ identity, outputFile: join(this.options.runtimeDir, "namespace.out"), tcpForwards: forwards.map((forward) => forward.hostPort) });
    this.inGuest = namespace;
    const record: VpnRecord = { placement: "guest", namespace };
    try {
      await writeFile(this.recordFile, JSON.stringify(record), { mode: 0o600 });
    } catch (error) {
      destroyGuestNamespace(namespace);
      this.inGuest = undefined;
      throw error;
    }
    this.publish({ vpnState: "in-guest", vpnPeers: 0, vpnLastHandshake: 0 });
    return { kind: "outbound", enter: qemuIntoGuestNamespace(identity, namespace), forwards, kernelParams: ["clan.vpn=guest"] };
  }

  private async startWireguard(names: NamespaceNames, access: NamespaceAccess, vpn: WireguardVpn, blocked: string[]): Promise<{ pid: number; kernelParams: string[]; hostsFile: string }> {
    await ensureWireguardKey(this.state);
    const pid = await startWireguardEndpoint({
      names,
      access,
      spec: vpn,
      keyFile: this.state.wireguardKey,
      blocked,
      outputFile: join(this.options.runtimeDir, "wireguard-go.out"),
      wireguardGoBinary: this.options.wireguardGoBinary,
    });
    await routeToVm(access, names, { ipv4: vpn.address });
    const hostsFile = join(this.options.runtimeDir, "hosts");
    await writeFile(hostsFile, peerHosts(vpn, this.options.network, blocked), { mode: 0o644 });
    return { pid, kernelParams: [`clan.ip=${vpn.address}/32`, `clan.gw=${NAMESPACE_GATEWAY}`], hostsFile };
  }

  private async startYggdrasil(names: NamespaceNames, access: NamespaceAccess, vpn: YggdrasilVpn): Promise<{ pid: number; kernelParams: string[]; hostsFile?: string }> {
    const node = await startYggdrasilEndpoint({
      names,
      access,
      spec: vpn,
      state: this.state,
      runtimeConfig: join(this.options.runtimeDir, "yggdrasil.json"),
      adminSocket: this.adminSocket,
      outputFile: join(this.options.runtimeDir, "yggdrasil.out"),
      yggdrasilBinary: this.options.yggdrasilBinary,
    });
    await routeToVm(access, names, { ipv6: node.vmAddress });
    return { pid: node.pid, kernelParams: [`clan.ip6=${node.vmAddress}/128`, `clan.gw6=${NAMESPACE_GATEWAY6}`] };
  }

  private get adminSocket(): string {
    return join(this.options.runtimeDir, "ygg.sock");
  }

  /** After a clan-vmd restart, while the runtime directory of a live VM is still there. */
  async adopt(): Promise<void> {
    const record = await this.readRecord();
    if (record && "placement" in record) {
      this.inGuest = record.namespace;
      this.publish({ vpnState: "in-guest", vpnPeers: 0, vpnLastHandshake: 0 });
      return;
    }
    this.running = record;
    if (this.running) this.startPolling();
  }

  private async readRecord(): Promise<VpnRecord | undefined> {
    const text = await readFile(this.recordFile, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    return text === undefined ? undefined : VpnRecord.parse(JSON.parse(text));
  }

  /** Stops the endpoint and removes the namespace; safe to call when nothing runs. */
  async teardown(): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
    // After a restart that adopted nothing, what a previous clan-vmd started is known only from its record.
    const inGuest: VpnRecord | undefined = this.inGuest && { placement: "guest", namespace: this.inGuest };
    const running = this.running ?? inGuest ?? (await this.readRecord());
    this.running = undefined;
    this.inGuest = undefined;
    if (running && "placement" in running) destroyGuestNamespace(running.namespace);
    else if (running) {
      if (isAlive(running.endpointPid)) {
        signal(running.endpointPid, "SIGTERM");
        if (!(await waitForExit(running.endpointPid, 2000))) signal(running.endpointPid, "SIGKILL");
      }
      await deleteNamespace(running.access, running);
    }
    this.publish(NO_VPN);
  }

  async publicKey(): Promise<string> {
    return ensureWireguardKey(this.state);
  }

  async peers(): Promise<VpnPeerInfo[]> {
    const running = this.requireRunning();
    if (running.spec.kind === "yggdrasil") return (await this.yggdrasilPeers()).map((peer) => this.describeYggdrasilPeer(peer));
    const blocked = await readBlocked(this.state);
    const live = new Map((await readWireguardState(running.access, running.vpnInterface)).peers.map((peer) => [peer.publicKey, peer]));
    return running.spec.peers.map((peer) => {
      const state = live.get(peer.publicKey);
      const lastHandshake = state?.lastHandshake ?? 0;
      return {
        name: peer.name,
        publicKey: peer.publicKey,
        endpoint: state?.endpoint || peer.endpoint || "",
        allowedIps: peer.allowedIps,
        lastHandshake,
        receivedBytes: state?.receivedBytes ?? 0,
        sentBytes: state?.sentBytes ?? 0,
        blocked: blocked.includes(peer.publicKey),
        connected: lastHandshake > Date.now() - CONNECTED_WITHIN_MS,
      };
    });
  }

  /** Yggdrasil peerings have no handshakes to count; when each was first seen stands in for one. */
  private readonly yggdrasilPeeredSince = new Map<string, number>();

  private async yggdrasilPeers(): Promise<YggdrasilPeer[]> {
    const peers = await readYggdrasilPeers(this.adminSocket);
    for (const key of this.yggdrasilPeeredSince.keys()) if (!peers.some((peer) => peer.key === key)) this.yggdrasilPeeredSince.delete(key);
    for (const peer of peers) if (!this.yggdrasilPeeredSince.has(peer.key)) this.yggdrasilPeeredSince.set(peer.key, Math.round(Date.now() - peer.uptime * 1000));
    return peers;
  }

  private describeYggdrasilPeer(peer: YggdrasilPeer): VpnPeerInfo {
    return {
      name: peer.key.slice(0, 16),
      publicKey: peer.key,
      endpoint: peer.remote,
      allowedIps: peer.address ? [peer.address] : [],
      lastHandshake: this.yggdrasilPeeredSince.get(peer.key) ?? 0,
      receivedBytes: peer.bytes_recvd,
      sentBytes: peer.bytes_sent,
      blocked: false,
      connected: true,
    };
  }

  /** Revokes the peer's key and refuses its addresses at once; it stays blocked across restarts and generations. */
  async block(nameOrKey: string): Promise<void> {
    const running = this.requireRunning();
    const peer = findPeer(running.spec, nameOrKey);
    const blocked = await readBlocked(this.state);
    if (blocked.includes(peer.publicKey)) return;
    await writeBlocked(this.state, [...blocked, peer.publicKey]);
    await inNetwork(running.access, "nft", blockedSetCommand("add", peer.allowedIps));
    await removePeer(running.access, running, peer);
    this.options.log(`${this.options.network}: blocked peer ${peer.name} (${peer.publicKey})`);
  }

  /** Lets a blocked peer back; returns its name, or undefined when it was not blocked (nothing changed). */
  async unblock(nameOrKey: string): Promise<string | undefined> {
    const running = this.requireRunning();
    const peer = findPeer(running.spec, nameOrKey);
    const blocked = await readBlocked(this.state);
    if (!blocked.includes(peer.publicKey)) return undefined;
    await writeBlocked(this.state, blocked.filter((key) => key !== peer.publicKey));
    await inNetwork(running.access, "nft", blockedSetCommand("delete", peer.allowedIps));
    await addPeer(running.access, running, peer);
    this.options.log(`${this.options.network}: unblocked peer ${peer.name}`);
    return `peer ${peer.name} (${peer.publicKey})`;
  }

  private requireRunning(): RuntimeRecord & NamespaceNames {
    if (!this.running) throw new ClanError("InvalidState", `the VPN of ${this.options.network} does not run on this host (is its VM running, with network mode "vpn" in a host namespace?)`);
    return this.running;
  }

  private startPolling(): void {
    clearInterval(this.poll);
    const check = () => void this.refresh().catch((error: unknown) => this.options.log(`${this.options.network}: VPN status: ${errorMessage(error)}`));
    this.poll = setInterval(check, POLL_MS);
    this.poll.unref();
    check();
  }

  private async refresh(): Promise<void> {
    const running = this.running;
    if (!running) return;
    if (!isAlive(running.endpointPid)) {
      this.publish({ vpnState: "down", vpnPeers: 0, vpnLastHandshake: 0 });
      return;
    }
    let handshakes: number[];
    if (running.spec.kind === "yggdrasil") {
      await this.yggdrasilPeers();
      handshakes = [...this.yggdrasilPeeredSince.values()];
    } else {
      const { peers } = await readWireguardState(running.access, running.vpnInterface);
      handshakes = peers.map((peer) => peer.lastHandshake).filter((time) => time > Date.now() - CONNECTED_WITHIN_MS);
    }
    const lastHandshake = Math.max(0, ...handshakes);
    if (this.running === running) this.publish({ vpnState: "up", vpnPeers: handshakes.length, vpnLastHandshake: lastHandshake });
  }

  private publish(fields: VpnStatusFields): void {
    if (fields.vpnState === this.current.vpnState && fields.vpnPeers === this.current.vpnPeers && fields.vpnLastHandshake === this.current.vpnLastHandshake) return;
    this.current = fields;
    this.options.changed(this.fields);
  }
}

function findPeer(spec: VpnSpec, nameOrKey: string): WireguardPeer {
  if (spec.kind === "yggdrasil") {
    throw new ClanError("InvalidState", "blocking a Yggdrasil peer is not supported yet: drop its key from allowedPublicKeys in the network's flake");
  }
  const peer = spec.peers.find((candidate) => candidate.name === nameOrKey || candidate.publicKey === nameOrKey);
  if (!peer) throw new ClanError("NotFound", `the network has no peer ${JSON.stringify(nameOrKey.slice(0, 64))}`);
  return peer;
}

/**
 * Names for the VM (docs/vpn.md, "Names"): each peer with a single address, as `<peer>` and
 * `<peer>.<network>.clan`, in /etc/hosts form. WireGuard carries no multicast, so mDNS cannot work across it; the
 * peer names of the network's own VPN config are what every member already agrees on.
 */
export function peerHosts(vpn: WireguardVpn, network: string, blocked: string[]): string {
  return vpn.peers
    .filter((peer) => !blocked.includes(peer.publicKey))
    .flatMap((peer) => {
      const single = peer.allowedIps.find((prefix) => prefix.endsWith("/32"));
      return single ? [`${single.slice(0, -3)} ${peer.name} ${peer.name}.${network}.clan\n`] : [];
    })
    .join("");
}

/** The TCP ports a Yggdrasil node listens on, which pasta forwards in when the namespace is rootless. */
function listenPorts(vpn: YggdrasilVpn): number[] {
  return vpn.listen.flatMap((uri) => {
    const port = Number(new URL(uri).port);
    return port > 0 ? [port] : [];
  });
}

function blockedPrefixes(peers: WireguardVpn["peers"], blocked: string[]): string[] {
  return peers.filter((peer) => blocked.includes(peer.publicKey)).flatMap((peer) => peer.allowedIps);
}
