import { Variant } from "@jellybrick/dbus-next";
import { z } from "zod";
import { ClanError } from "./errors.js";
import { ShareGrant } from "./share-grants.js";

// The VM status as it crosses D-Bus between clan-vmd and its clients (clan-sessiond, clanctl): one zod schema,
// and the a{sv} encoding both sides use. A dictionary keeps the API extensible without breaking old clients.

/** How a VM's screen or windows reach the desktop (docs/generation.md): dbus is QEMU's D-Bus display on a private
 *  bus of the VM's own, which clan-viewer shows (docs/display.md). */
export const VmDisplay = z.enum(["none", "spice", "waypipe", "dbus"]);
export type VmDisplay = z.infer<typeof VmDisplay>;

export const VmState = z.enum(["stopped", "starting", "running", "paused", "stopping", "failed"]);
export type VmState = z.infer<typeof VmState>;

/** The VPN of a network whose VM runs with network mode "vpn" (docs/vpn.md). */
export const VpnState = z.enum(["none", "starting", "up", "down", "in-guest"]);
export const VpnStatusFields = z.object({
  vpnState: VpnState,
  /** Peers with a handshake in the last three minutes. */
  vpnPeers: z.number().int().nonnegative(),
  /** Unix time in ms of the latest handshake with any peer, 0 for never. */
  vpnLastHandshake: z.number(),
});
export type VpnStatusFields = z.infer<typeof VpnStatusFields>;

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
  display: VmDisplay,
  displaySocket: z.string(),
  // Defaults: a clan-vmd from before the VPN work sends none of these.
  vpnState: VpnState.default("none"),
  vpnPeers: z.number().int().nonnegative().default(0),
  vpnLastHandshake: z.number().default(0),
});
export type VmStatus = z.infer<typeof VmStatus>;

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

export function encodeVpnPeer(peer: VpnPeerInfo): Record<string, Variant> {
  return {
    name: new Variant("s", peer.name),
    publicKey: new Variant("s", peer.publicKey),
    endpoint: new Variant("s", peer.endpoint),
    allowedIps: new Variant("as", peer.allowedIps),
    lastHandshake: new Variant("d", peer.lastHandshake),
    receivedBytes: new Variant("d", peer.receivedBytes),
    sentBytes: new Variant("d", peer.sentBytes),
    blocked: new Variant("b", peer.blocked),
    connected: new Variant("b", peer.connected),
  };
}

export function decodeVpnPeer(raw: unknown): VpnPeerInfo {
  return VpnPeerInfo.parse(unwrapVariants(raw));
}

export const VM_STATUS_SIGNATURE = "a{sv}";

/** What a session's config may override of a generation's vm.json when it starts the VM. */
export const VmOverrides = z
  .object({
    memoryMiB: z.number().int().min(64).max(65536).optional(),
    cores: z.number().int().min(1).max(64).optional(),
    display: VmDisplay.optional(),
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

export function encodeVmStartOptions(options: VmStartOptions): Record<string, Variant> {
  const encoded: Record<string, Variant> = {};
  if (options.memoryMiB !== undefined) encoded.memoryMiB = new Variant("u", options.memoryMiB);
  if (options.cores !== undefined) encoded.cores = new Variant("u", options.cores);
  if (options.display !== undefined) encoded.display = new Variant("s", options.display);
  // a(sb): (path, readWrite) — a struct per grant keeps the dictionary flat for shell callers.
  if (options.shareGrants !== undefined) {
    encoded.shareGrants = new Variant("a(sb)", options.shareGrants.map((grant) => [grant.path, grant.readWrite ?? false]));
  }
  return encoded;
}

/** Start's options dictionary, validated: a bad field is an InvalidArgument naming it. */
export function decodeVmStartOptions(raw: unknown): DecodedVmStartOptions {
  const fields = unwrapVariants(raw);
  if (Array.isArray(fields.shareGrants)) {
    fields.shareGrants = fields.shareGrants.map((grant: unknown) =>
      Array.isArray(grant) ? { path: grant[0] as unknown, readWrite: grant[1] as unknown } : grant,
    );
  }
  const parsed = VmStartOptions.safeParse(fields);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ClanError("InvalidArgument", `invalid start option ${issue?.path.join(".") || "(dictionary)"}: ${issue?.message ?? "invalid"}`);
}

export function encodeVmStatus(status: VmStatus): Record<string, Variant> {
  return {
    network: new Variant("s", status.network),
    state: new Variant("s", status.state),
    generation: new Variant("s", status.generation),
    pid: new Variant("u", status.pid),
    accelerator: new Variant("s", status.accelerator),
    since: new Variant("d", status.since),
    error: new Variant("s", status.error),
    display: new Variant("s", status.display),
    displaySocket: new Variant("s", status.displaySocket),
    vpnState: new Variant("s", status.vpnState),
    vpnPeers: new Variant("u", status.vpnPeers),
    vpnLastHandshake: new Variant("d", status.vpnLastHandshake),
  };
}

export function decodeVmStatus(raw: unknown): VmStatus {
  return VmStatus.parse(unwrapVariants(raw));
}

export function unwrapVariants(raw: unknown): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null) return {};
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [key, value instanceof Variant ? (value.value as unknown) : value]),
  );
}

/** What SnapshotState reports: how the copy was made consistent. */
export const SnapshotReport = z.object({
  method: z.enum(["freeze", "paused", "stopped"]),
  frozenFilesystems: z.number().int(),
  hooksRun: z.number().int(),
  durationMs: z.number(),
});
export type SnapshotReport = z.infer<typeof SnapshotReport>;
