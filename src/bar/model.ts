import { JOB_VERBS, JobKind } from "../shared/job-api.js";
import type { NetworkStatus, NetworkVmState } from "../shared/session-api.js";
import { checkedColour, chip, displayText, pangoText } from "./markup.js";

// What the bar shows, independent of the bar: a network's status from clan-sessiond becomes a view (glyph,
// label, colour, badges, urgency), and the views become Pango markup. The output formats (i3bar, waybar,
// i3blocks) only arrange these pieces into their protocol.

/** What the bar knows: clan-sessiond's networks, or that it is not on the bus. */
export type BarState = { kind: "sessiond-missing" } | { kind: "networks"; networks: readonly NetworkStatus[] };

/** The "name" of every block this module writes; click events carry it back. */
export const BLOCK_NAME = "clan-desktop";
export const SESSIOND_MISSING_TEXT = "clan-sessiond not running";
/** The "name" of the trailing block whose left click opens the manager window (docs/bar.md, "Open manager"). */
export const MANAGER_BLOCK_NAME = "clan-desktop-manager";
export const SESSIOND_MISSING_COLOUR = "#ff5555";

/** Labels are at most 64 characters in config.json; a longer one from the bus is cut, not trusted. */
const MAX_LABEL = 64;
const MAX_ERROR = 200;

export const STATE_GLYPHS: Readonly<Record<NetworkVmState, string>> = {
  running: "●",
  paused: "‖",
  stopped: "○",
  starting: "◐",
  stopping: "◑",
  failed: "✖",
  unavailable: "◌",
};

export type BadgeKind = "backup-overdue" | "backup-failed" | "update-available" | "building" | "build-failed" | "vpn-down" | "job";

export interface Badge {
  kind: BadgeKind;
  /** One glyph, for short forms. */
  glyph: string;
  text: string;
}

export interface NetworkView {
  name: string;
  label: string;
  /** "#rrggbb", or undefined when clan-sessiond sent something else. */
  colour: string | undefined;
  vmState: NetworkVmState;
  glyph: string;
  focused: boolean;
  badges: Badge[];
  /** 0..100 while building with known progress. */
  buildPercent: number | undefined;
  urgent: boolean;
  /** Style classes (waybar's "class"): the VM state, "focused", each badge kind, "urgent". */
  classes: string[];
  /** One line of plain text describing everything known, for tooltips. */
  summary: string;
}

export function networkView(status: NetworkStatus): NetworkView {
  const badges = badgesOf(status);
  const building = status.buildState === "building";
  const buildPercent = building && status.buildProgress >= 0 && status.buildProgress <= 1 ? Math.round(status.buildProgress * 100) : undefined;
  const urgent =
    status.vmState === "failed" || status.buildState === "failed" || status.backupState === "overdue" || status.backupState === "failed";
  const label = displayText(status.label || status.name, MAX_LABEL);
  const classes = [status.vmState, ...(status.focused ? ["focused"] : []), ...badges.map((badge) => badge.kind), ...(urgent ? ["urgent"] : [])];
  const details = [status.vmState, ...(status.focused ? ["focused"] : []), ...badges.map((badge) => badge.text)];
  const error = status.error ? ` — ${displayText(status.error, MAX_ERROR)}` : "";
  return {
    name: displayText(status.name, MAX_LABEL),
    label,
    colour: checkedColour(status.colour),
    vmState: status.vmState,
    glyph: STATE_GLYPHS[status.vmState],
    focused: status.focused,
    badges: badges.map((badge) => (badge.kind === "building" && buildPercent !== undefined ? { ...badge, text: `⚙ building ${buildPercent}%` } : badge)),
    buildPercent,
    urgent,
    classes,
    summary: `${label}: ${details.join(", ")}${error}`,
  };
}

function badgesOf(status: NetworkStatus): Badge[] {
  const badges: Badge[] = [];
  if (status.backupState === "overdue") badges.push({ kind: "backup-overdue", glyph: "⚠", text: "⚠ backup overdue" });
  if (status.backupState === "failed") badges.push({ kind: "backup-failed", glyph: "⚠", text: "⚠ backup failed" });
  if (status.updateAvailable) badges.push({ kind: "update-available", glyph: "⬆", text: "⬆ update" });
  if (status.buildState === "building") badges.push({ kind: "building", glyph: "⚙", text: "⚙ building" });
  if (status.buildState === "failed") badges.push({ kind: "build-failed", glyph: "✗", text: "✗ build failed" });
  const job = jobBadge(status);
  if (job) badges.push(job);
  // A running VM whose VPN endpoint died is cut off from its network (docs/vpn.md).
  if (status.vpnState === "down") badges.push({ kind: "vpn-down", glyph: "⚠", text: "⚠ VPN down" });
  return badges;
}

/** A job running on the network ("⟳ backing up 40%"); a rebuild while it builds already shows as "⚙ building". A
 *  scheduled backup is no job but shows the same. */
function jobBadge(status: NetworkStatus): Badge | undefined {
  const kind = JobKind.safeParse(status.jobKind);
  if (!kind.success) return status.backupState === "running" ? { kind: "job", glyph: "⟳", text: `⟳ ${JOB_VERBS.backup}` } : undefined;
  if (kind.data === "rebuild" && status.buildState === "building") return undefined;
  const percent = status.jobProgress >= 0 && status.jobProgress <= 1 ? ` ${Math.round(status.jobProgress * 100)}%` : "";
  return { kind: "job", glyph: "⟳", text: `⟳ ${JOB_VERBS[kind.data]}${percent}` };
}

/**
 * The network as markup: its state glyph in its colour, its label on a chip of its colour (the same look as the `[label]`
 * prefix clan-sessiond puts on its windows; bold while focused), then its badges. The short form, for bars
 * that run out of room, keeps the glyphs and uses the network's name.
 */
export function networkMarkup(view: NetworkView, form: "full" | "short"): string {
  const text = pangoText(form === "full" ? view.label : view.name);
  const chipText = view.focused ? `<b> ${text} </b>` : ` ${text} `;
  const badges =
    form === "full"
      ? view.badges.map((badge) => ` ${pangoText(badge.text)}`).join("")
      : view.badges.length > 0
        ? ` ${view.badges.map((badge) => badge.glyph).join("")}`
        : "";
  const glyph = view.colour === undefined ? view.glyph : `<span foreground='${view.colour}'>${view.glyph}</span>`;
  return `${glyph} ${chip(chipText, view.colour)}${badges}`;
}

/** The networks a bar shows: all, or the one named with --network (none when it is not configured). */
export function selectNetworks(state: BarState & { kind: "networks" }, only: string | undefined): NetworkView[] {
  const networks = only === undefined ? state.networks : state.networks.filter((network) => network.name === only);
  return networks.map(networkView);
}
