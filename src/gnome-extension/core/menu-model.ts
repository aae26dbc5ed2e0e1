import { requiredMethod, type ActionId } from "./actions.js";
import { formatBackup, formatGeneration, formatProgress, formatVmState } from "./format.js";
import type { NetworkStatus } from "./network-status.js";
import { networkIssues, networkLevel, summarise, type Level, type Summary } from "./summary.js";
import type { WorkspaceMap } from "./workspace-map.js";

// The whole panel menu as plain data: the shell adapter only turns this into PopupMenu items, so everything the
// user reads and every rule about which action is possible is decided (and unit-tested) here.

export interface MenuAction {
  id: ActionId;
  network: string;
  label: string;
  sensitive: boolean;
  /** Why the action is insensitive; "" when it is sensitive. */
  hint: string;
}

export interface NetworkSection {
  network: string;
  /** The collapsed submenu's label: "Family · workspace 2 · focused". */
  title: string;
  /** Beside the title, visible while collapsed: the worst issue, or the VM's state when there is none. */
  status: string;
  colour: string;
  level: Level;
  vmState: string;
  focused: boolean;
  /** Read-only lines inside the submenu: VM state, generation, backup, update, build. */
  lines: string[];
  actions: MenuAction[];
}

export interface MenuModel {
  summary: Summary;
  /** Lines above the networks: not running, config error, workspace mapping problems. */
  notices: string[];
  sections: NetworkSection[];
}

export interface MenuInput {
  connected: boolean;
  networks: readonly NetworkStatus[];
  configError: string;
  /** Methods clan-sessiond's introspection lists on its manager interface. */
  availableMethods: ReadonlySet<string>;
  workspaces: WorkspaceMap;
  /** network → the number (1-based) its GNOME workspace has now; absent while it has none. */
  workspaceNumbers: ReadonlyMap<string, number>;
  /** network → how many generations its profile has, once Generations answered. */
  generationCounts: ReadonlyMap<string, number>;
  nowMs: number;
}

export function buildMenuModel(input: MenuInput): MenuModel {
  const summary = summarise(input);
  if (!input.connected) {
    return { summary, notices: ["Networks appear here when clan-sessiond starts."], sections: [] };
  }
  const notices: string[] = [];
  if (input.configError) notices.push(`Config error (the last good config is in force): ${input.configError.slice(0, 200)}`);
  notices.push(...input.workspaces.problems);
  const sections = [...input.networks]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((network) => networkSection(network, input));
  return { summary, notices, sections };
}

function networkSection(network: NetworkStatus, input: MenuInput): NetworkSection {
  const hasWorkspace = input.workspaces.slotOfNetwork.has(network.name);
  const number = input.workspaceNumbers.get(network.name);
  const where = !hasWorkspace ? "no GNOME workspace" : number === undefined ? "workspace made on entry" : `workspace ${number}`;
  const lines = [`VM: ${formatVmState(network.vmState)}`];
  // The generation is the running VM's: a stopped VM has none, which is not news.
  if (network.generation !== "") lines.push(`Generation: ${formatGeneration(network.generation)}`);
  lines.push(`Backup: ${backupConfigured(network) ? formatBackup(network.backupState, network.backupLastSuccess, input.nowMs) : "not configured"}`);
  if (network.updateAvailable) lines.push("Update available");
  if (network.buildState === "building") lines.push(`Building ${formatProgress(network.buildProgress)}`.trimEnd() + "…");
  if (network.buildState === "failed") lines.push("Build failed");
  const job = jobLine(network);
  if (job) lines.push(job);
  if (network.vpnState !== "none") lines.push(`VPN: ${formatVpn(network, input.nowMs)}`);
  lines.push(...accessLines(network));
  const problem = networkIssues(network).find((issue) => issue.level === "error" && issue.reason.startsWith("VM failed"));
  if (problem) lines.push(problem.reason);
  return {
    network: network.name,
    title: `${network.label} · ${where}${network.focused ? " · focused" : ""}`,
    status: networkIssues(network)[0]?.reason ?? formatVmState(network.vmState),
    colour: network.colour,
    level: networkLevel(network),
    vmState: network.vmState,
    focused: network.focused,
    lines,
    actions: actionsFor(network, hasWorkspace, input),
  };
}

/** clan-sessiond publishes a next due time for every network with a backup configuration, and 0 for the rest. */
function backupConfigured(network: NetworkStatus): boolean {
  return network.backupNextDue > 0 || network.backupState !== "unknown";
}

/** Why each action cannot work now ("" when it can): the item is then insensitive and says so. */
function actionsFor(network: NetworkStatus, hasWorkspace: boolean, input: MenuInput): MenuAction[] {
  const available = input.availableMethods;
  const vmUp = ["running", "paused", "starting"].includes(network.vmState);
  const generationBusy = network.buildState === "building" || network.jobKind === "rebuild" || network.jobKind === "rollback" ? "a rebuild or rollback is running" : "";
  const generations = input.generationCounts.get(network.name);
  const rules: [ActionId, string, string][] = [
    ["switch", `Switch to ${network.label}`, hasWorkspace ? "" : "none of its workspaces has a number"],
    ["rebuild", "Rebuild", network.sourceKind === "profile" ? "it boots a fixed profile: rebuilding needs a flake source" : generationBusy],
    ["rollback", "Roll back to the previous generation", generations !== undefined && generations < 2 ? "there is no previous generation" : generationBusy],
    [
      "backup",
      "Back up now",
      !backupConfigured(network) ? "no backup is configured" : network.backupState === "running" || network.jobKind === "backup" ? "a backup is running" : "",
    ],
    ["stop", "Stop the VM", vmUp ? "" : "the VM is not running"],
  ];
  return rules.map(([id, label, blocked]) => {
    const method = requiredMethod(id);
    const hint = method !== undefined && !available.has(method) ? `needs a clan-sessiond with ${method}` : blocked;
    return { id, network: network.name, label, sensitive: hint === "", hint };
  });
}

/** What the generation reaches of this host: its network, each share (and whether it is granted), each forward. */
function accessLines(network: NetworkStatus): string[] {
  if (network.networkMode === "") return [];
  return [
    `Network: ${network.networkMode}`,
    ...network.shares.map(
      (share) => `Share ${share.tag}: ${share.path} (${share.readWrite ? "read-write" : "read-only"}${share.granted ? "" : ", not granted: will not start"})`,
    ),
    ...network.forwards.map((forward) => `Forward: host port ${forward.hostPort} → guest port ${forward.guestPort}`),
  ];
}

const JOB_VERBS: Readonly<Record<string, string>> = { rebuild: "Rebuilding", rollback: "Rolling back", backup: "Backing up", restore: "Restoring" };

/** "Backing up: storing the copy in the repository 40 %…"; nothing when no job runs, and a rebuild's build
 *  already has its "Building" line. */
function jobLine(network: NetworkStatus): string | undefined {
  if (network.jobId === "" || (network.jobKind === "rebuild" && network.buildState === "building")) return undefined;
  const verb = JOB_VERBS[network.jobKind] ?? "Working";
  return `${verb}: ${`${network.jobPhase.slice(0, 120)} ${formatProgress(network.jobProgress)}`.trim()}…`;
}

/** "up, 2 peers, last handshake 40 s ago", "in the guest", "down" (docs/vpn.md). */
function formatVpn(network: NetworkStatus, nowMs: number): string {
  if (network.vpnState === "in-guest") return "in the guest";
  if (network.vpnState !== "up") return network.vpnState;
  const peers = `${network.vpnPeers} ${network.vpnPeers === 1 ? "peer" : "peers"}`;
  if (network.vpnLastHandshake <= 0) return `up, ${peers}, no handshake yet`;
  const seconds = Math.max(0, Math.round((nowMs - network.vpnLastHandshake) / 1000));
  return `up, ${peers}, last handshake ${seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} ago`;
}
