import type { NetworkStatus } from "./network-status.js";
import { VM_STATES } from "./session-contract.js";

// One icon in the top panel stands for every network: it shows the worst state among them, so a failed backup
// of a network the user is not looking at is still visible at a glance.

/** Ordered from best to worst; "offline" (clan-sessiond not running) outranks everything. An available update is
 *  news, not a warning: it has a level and an icon of its own, below anything that needs the user. */
export const LEVELS = ["ok", "update", "busy", "attention", "error", "offline"] as const;
export type Level = (typeof LEVELS)[number];

export interface Summary {
  level: Level;
  iconName: string;
  /** The accessible name of the icon and the first line of the menu. */
  text: string;
}

const ICONS: Record<Level, string> = {
  ok: "network-vpn-symbolic",
  busy: "network-vpn-acquiring-symbolic",
  update: "software-update-available-symbolic",
  attention: "dialog-warning-symbolic",
  error: "dialog-error-symbolic",
  offline: "network-vpn-disabled-symbolic",
};

function worse(a: Level, b: Level): Level {
  return LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b;
}

/** Why a network is at its level, worst reason first: the menu shows them and the summary counts them. */
export function networkIssues(status: NetworkStatus): { level: Level; reason: string }[] {
  const issues: { level: Level; reason: string }[] = [];
  if (status.vmState === "failed") issues.push({ level: "error", reason: status.error ? `VM failed: ${status.error}` : "VM failed" });
  if (status.buildState === "failed") issues.push({ level: "error", reason: "build failed" });
  if (status.backupState === "failed") issues.push({ level: "error", reason: "backup failed" });
  if (status.vmState === "unavailable") issues.push({ level: "attention", reason: "clan-vmd is not running" });
  else if (!KNOWN_VM_STATES.has(status.vmState)) issues.push({ level: "attention", reason: `unknown VM state ${status.vmState}` });
  if (status.backupState === "overdue") issues.push({ level: "attention", reason: "backup overdue" });
  if (status.updateAvailable) issues.push({ level: "update", reason: "update available" });
  if (status.vmState === "starting" || status.vmState === "stopping") issues.push({ level: "busy", reason: `VM ${status.vmState}` });
  if (status.buildState === "building") issues.push({ level: "busy", reason: "building" });
  if (status.backupState === "running") issues.push({ level: "busy", reason: "backing up" });
  return issues.sort((a, b) => LEVELS.indexOf(b.level) - LEVELS.indexOf(a.level));
}

const KNOWN_VM_STATES = new Set<string>(VM_STATES);

export function networkLevel(status: NetworkStatus): Level {
  return networkIssues(status).reduce<Level>((level, issue) => worse(level, issue.level), "ok");
}

export interface SummaryInput {
  connected: boolean;
  networks: readonly NetworkStatus[];
  /** clan-sessiond's ConfigError property: the last edit was rejected, an older config is in force. */
  configError: string;
}

export function summarise(input: SummaryInput): Summary {
  if (!input.connected) return { level: "offline", iconName: ICONS.offline, text: "clan-sessiond is not running" };
  let level: Level = input.configError ? "attention" : "ok";
  let worst: NetworkStatus | undefined;
  for (const network of input.networks) {
    const next = networkLevel(network);
    if (worst === undefined || LEVELS.indexOf(next) > LEVELS.indexOf(networkLevel(worst))) worst = network;
    level = worse(level, next);
  }
  return { level, iconName: ICONS[level], text: summaryText(input, level, worst) };
}

function summaryText(input: SummaryInput, level: Level, worst: NetworkStatus | undefined): string {
  if (input.networks.length === 0) return input.configError ? "config error: no networks" : "no networks configured";
  const reason = worst ? networkIssues(worst)[0] : undefined;
  if (level !== "ok" && reason && LEVELS.indexOf(reason.level) >= LEVELS.indexOf(level)) return `${worst!.label}: ${reason.reason}`;
  if (input.configError) return "config error: the last good config is in force";
  const running = input.networks.filter((network) => network.vmState === "running").length;
  return `${plural(input.networks.length, "network")}, ${running} running`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
