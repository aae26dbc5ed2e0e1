import { accessLines } from "../shared/access-lines.js";
import { UsageError } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { describeHandshake } from "./handshake-text.js";
import type { WireNetworkStatus } from "./wire/network-status-decoder.js";
import { SessionWireClient } from "./wire/session-wire-client.js";

// `clanctl status|start|stop|pause|switch`: what a user asks of their networks, through clan-sessiond. Keys and
// bar clicks run these, so they talk D-Bus through the small client in wire/ and load no dependency.

export async function runSessionCommand(
  command: string,
  parsed: { values: { json?: boolean }; positionals: string[] },
): Promise<void> {
  const session = await SessionWireClient.connect();
  try {
    await runWith(session, command, parsed);
  } finally {
    session.close();
  }
}

async function runWith(
  session: SessionWireClient,
  command: string,
  { values, positionals }: { values: { json?: boolean }; positionals: string[] },
): Promise<void> {
  if (command === "status") {
    const [networks, configError, backend] = await Promise.all([session.listNetworks(), session.configError(), session.backend()]);
    if (values.json) {
      console.log(JSON.stringify({ networks, configError, backend }, null, 2));
      return;
    }
    if (backend === "none") {
      console.log("no window manager: clan-sessiond is attached to no sway or i3, so only D-Bus (the GNOME extension) reports focus\n");
    }
    printStatus(networks);
    if (configError) console.log(`\nconfig problem (the last good config stays in force):\n${configError}`);
    return;
  }
  // Without a name, start/stop/pause act on the focused network, as the keys of `clanctl sway-config` expect.
  const network = positionals[0] ?? (command === "switch" ? "" : await session.focusedNetwork());
  if (!network) {
    const why = command === "switch" ? "needs a network name" : "got no network name and the focused workspace belongs to none";
    throw new UsageError(`${command} ${why}\nTry 'clanctl ${command} --help'.`);
  }
  if (command === "start") await session.start(network);
  else if (command === "stop") await session.stop(network);
  else if (command === "pause") await session.pause(network);
  else await session.switchTo(network);
  if (command !== "switch") {
    const status = await session.getNetwork(network);
    console.log(`${network}: ${status.vmState}${status.error ? ` (${terminalSafe(status.error)})` : ""}`);
  }
}

function printStatus(networks: WireNetworkStatus[]): void {
  if (networks.length === 0) {
    console.log("no networks configured (see docs/config.md)");
    return;
  }
  const rows = networks.map((n) => [
    `${n.focused ? "*" : " "}${n.name}`,
    n.workspaces.map((w) => JSON.stringify(w)).join(","),
    n.vmState,
    terminalSafe(n.generation) || "-",
    describeVpn(n),
    describeBackup(n),
    // An error may carry the guest's console tail: one escaped line, so the table stays a table.
    terminalSafe(n.error),
  ]);
  const header = [" NETWORK", "WORKSPACES", "VM", "GENERATION", "VPN", "BACKUP", "ERROR"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  for (const network of networks) if (network.backupWarning) console.log(`warning: ${network.name}: ${network.backupWarning}`);
  for (const network of networks) {
    if (network.networkMode === "") continue;
    console.log(`\n${network.name} reaches on this host:`);
    for (const line of accessLines(network)) console.log(`  ${line}`);
  }
}

/** The state and the date of the last success; `clanctl backups NET` tells the rest. */
function describeBackup(network: WireNetworkStatus): string {
  if (network.backupNextDue === 0) return "-";
  const last = network.backupLastSuccess > 0 ? new Date(network.backupLastSuccess).toISOString().slice(0, 16).replace("T", " ") : "never";
  return `${network.backupState}, last ${last}`;
}

function describeVpn(network: WireNetworkStatus): string {
  if (network.vpnState !== "up") return network.vpnState === "none" ? "-" : network.vpnState;
  return `up, ${network.vpnPeers} ${network.vpnPeers === 1 ? "peer" : "peers"}, ${describeHandshake(network.vpnLastHandshake)}`;
}
