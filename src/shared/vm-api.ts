import { z } from "zod";
import { dictionary, list, struct, type Codec } from "./contracts/define.js";
import { DisplayKind } from "./display.js";
import { ShareGrant } from "./share-grants.js";

// The payloads of clan-vmd's D-Bus API (contracts/vmd.ts): each zod schema and, beside it, its a{sv} dictionary —
// one signature and one line of documentation per field. A dictionary keeps the API extensible without breaking
// old clients.

export const VmState = z.enum(["stopped", "starting", "running", "paused", "stopping", "failed"]);
export type VmState = z.infer<typeof VmState>;

/** The VPN of a network whose VM runs with network mode "vpn" (docs/vpn.md). */
const VpnState = z.enum(["none", "starting", "up", "down", "in-guest"]);

// Defaults: a clan-vmd from before the VPN work sends none of these.
export const VpnStatusFields = z.object({
  vpnState: VpnState.default("none"),
  /** Peers with a handshake in the last three minutes. */
  vpnPeers: z.number().int().nonnegative().default(0),
  /** Unix time in ms of the latest handshake with any peer, 0 for never. */
  vpnLastHandshake: z.number().default(0),
});
export type VpnStatusFields = z.infer<typeof VpnStatusFields>;

export const VPN_STATUS_FIELDS = {
  vpnState: { codec: "s", doc: "the network's VPN on this host: `none`, `starting`, `up`, `down` (its endpoint died), `in-guest` ([vpn.md](vpn.md))" },
  vpnPeers: { codec: "u", doc: "peers with a handshake in the last three minutes" },
  vpnLastHandshake: { codec: "d", doc: "Unix time in ms of the latest handshake with any peer, 0 for never" },
} as const;

export const VmStatus = z.object({
  network: z.string(),
  state: VmState,
  /** The generation directory that booted (after following profile links), or "" when stopped. */
  generation: z.string(),
  pid: z.number().int().nonnegative(),
  accelerator: z.string(),
  /** Unix time in ms of the last transition. */
  since: z.number(),
  /** Why the VM failed, or "" when it did not. */
  error: z.string(),
  /** The display kind of the booted generation, and the socket a viewer connects to ("" when none); for dbus, the
   *  socket of the VM's private display bus, which clan-vmd made and names (never vm.json). */
  display: DisplayKind,
  displaySocket: z.string(),
  /** display waypipe: QEMU's socket of each waypipe port, one app shown at once per port (displaySocket is the
   *  first); empty otherwise. Default: a clan-vmd from before there were several ports sends none. */
  waypipeSockets: z.array(z.string()).default([]),
  ...VpnStatusFields.shape,
});
export type VmStatus = z.infer<typeof VmStatus>;

export const VmStatusDictionary = dictionary("VmStatus", VmStatus, {
  network: { codec: "s", doc: "the network's name" },
  state: { codec: "s", doc: "`stopped`, `starting`, `running`, `paused`, `stopping` or `failed`" },
  generation: { codec: "s", doc: "the generation directory that booted, after following profile links; `\"\"` when stopped" },
  pid: { codec: "u", doc: "QEMU's process id; `0` when there is no process" },
  accelerator: { codec: "s", doc: "`kvm` or `tcg`; `\"\"` before the first start" },
  since: { codec: "d", doc: "Unix time in milliseconds of the last transition" },
  error: { codec: "s", doc: "why the VM failed, with the tail of its console (escaped: no control bytes); `\"\"` when it did not" },
  display: { codec: "s", doc: "the booted generation's display: `none`, `spice`, `waypipe` or `dbus`" },
  displaySocket: { codec: "s", doc: "the unix socket a viewer connects to (SPICE, the waypipe bridge's first port, or for `dbus` the VM's own display bus, whose address is `unix:path=` and this path); `\"\"` for `none`" },
  waypipeSockets: { codec: "as", doc: "for `waypipe`, the unix socket of each of the VM's waypipe ports (vm.json `waypipe.ports`; the guest shows one app at once per port); empty otherwise" },
  ...VPN_STATUS_FIELDS,
});

/** One member of a network's VPN, as Peers(network) returns it. */
export const VpnPeerInfo = z.object({
  name: z.string(),
  publicKey: z.string(),
  /** Where its packets come from now, or the configured endpoint; "" when unknown. */
  endpoint: z.string(),
  allowedIps: z.array(z.string()),
  lastHandshake: z.number(),
  receivedBytes: z.number(),
  sentBytes: z.number(),
  blocked: z.boolean(),
  connected: z.boolean(),
});
export type VpnPeerInfo = z.infer<typeof VpnPeerInfo>;

export const VpnPeerDictionary = dictionary("VpnPeer", VpnPeerInfo, {
  name: { codec: "s", doc: "the peer's name" },
  publicKey: { codec: "s", doc: "its WireGuard public key" },
  endpoint: { codec: "s", doc: "where its packets come from now, or the configured one; `\"\"` when unknown" },
  allowedIps: { codec: "as", doc: "the addresses it may use" },
  lastHandshake: { codec: "d", doc: "Unix ms of its last handshake, 0 for never" },
  receivedBytes: { codec: "d", doc: "bytes received from it" },
  sentBytes: { codec: "d", doc: "bytes sent to it" },
  blocked: { codec: "b", doc: "whether it is blocked (`BlockPeer`)" },
  connected: { codec: "b", doc: "a handshake in the last three minutes" },
});

/** What a session's config may override of a generation's vm.json when it starts the VM. */
export const VmOverrides = z
  .object({
    memoryMiB: z.int().min(64).max(65536).optional().describe("Memory of the VM in MiB."),
    cores: z.int().min(1).max(64).optional().describe("Virtual CPU cores."),
    display: DisplayKind.optional().describe("How the VM's windows reach this desktop: spice (remote-viewer), dbus (clan-viewer), waypipe (app windows) or none."),
  })
  .strict();
export type VmOverrides = z.infer<typeof VmOverrides>;

/**
 * The options of Start: the user's overrides of vm.json and the user's grants. They come from the caller — the
 * user's session or the user at clanctl — never from the network; without grants, no share of the generation
 * (but the read-only Nix store) is allowed.
 */
export const VmStartOptions = VmOverrides.extend({
  shareGrants: z.array(ShareGrant).max(64).default([]),
}).strict();
/** What a client passes (defaults optional) and what clan-vmd works with after decoding. */
export type VmStartOptions = z.input<typeof VmStartOptions>;
export type DecodedVmStartOptions = z.output<typeof VmStartOptions>;

// a(sb): (path, readWrite) — a struct per grant keeps the dictionary flat for shell callers.
const ShareGrantStruct: Codec<z.output<typeof ShareGrant>, z.input<typeof ShareGrant>> = struct(ShareGrant, [
  { key: "path", signature: "s" },
  { key: "readWrite", signature: "b", missing: false },
]);

export const VmStartOptionsDictionary = dictionary("VmStartOptions", VmStartOptions, {
  memoryMiB: { codec: "u", doc: "memory in MiB, 64–65536, instead of vm.json's" },
  cores: { codec: "u", doc: "virtual CPU cores, 1–64, instead of vm.json's" },
  display: { codec: "s", doc: "`none`, `spice`, `waypipe` or `dbus`, instead of vm.json's" },
  shareGrants: {
    codec: list(ShareGrantStruct),
    doc: "the host directories (path, readWrite) the generation's shares may use, each with its subtree; at most 64",
  },
});

/** What SnapshotState reports: how the copy was made consistent. */
export const SnapshotReport = z.object({
  method: z.enum(["freeze", "paused", "stopped"]),
  frozenFilesystems: z.number().int(),
  hooksRun: z.number().int(),
  durationMs: z.number(),
});
export type SnapshotReport = z.infer<typeof SnapshotReport>;

export const SnapshotReportDictionary = dictionary("SnapshotReport", SnapshotReport, {
  method: { codec: "s", doc: "how the copy was made consistent: `freeze`, `paused` or `stopped`" },
  frozenFilesystems: { codec: "i", doc: "filesystems the guest froze" },
  hooksRun: { codec: "u", doc: "hooks run in the guest before the copy" },
  durationMs: { codec: "d", doc: "how long the whole snapshot took, hooks included, in ms" },
});
