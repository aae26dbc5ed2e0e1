import type { MessageBus } from "@jellybrick/dbus-next";
import { UsageError } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { NetworkStatus } from "../shared/session-api.js";
import { SessionClient } from "../shared/session-client.js";
import { followJob, stderrOutput } from "./job-follow.js";

// `clanctl backup|backups|restore`: a network's backups, through clan-sessiond (docs/backups.md). Without a
// network name, backup acts on the focused workspace's network, which is what the keybinding in
// `clanctl sway-config` relies on.

export async function runBackupCommand(
  command: string,
  { values, positionals }: { values: { json?: boolean; "no-wait"?: boolean }; positionals: string[] },
  connect: () => MessageBus,
): Promise<void> {
  const session = await SessionClient.connect(connect());
  const network = positionals[0] ?? (command === "backup" ? await session.focusedNetwork() : "");
  if (!network) {
    throw new UsageError(`${command}: ${command === "backup" ? "no network name given and the focused workspace belongs to none" : "needs a network name"}\nTry 'clanctl ${command} --help'.`);
  }
  switch (command) {
    case "backup": {
      if (values["no-wait"]) {
        console.log(await session.startBackup(network));
        return;
      }
      await followJob(session, () => session.startBackup(network), stderrOutput);
      const status = await session.getNetwork(network);
      console.log(`${network}: backed up at ${formatTime(status.backupLastSuccess)}${status.backupError ? ` (${status.backupError})` : ""}`);
      if (status.backupWarning) console.error(`warning: ${status.backupWarning}`);
      return;
    }
    case "backups": {
      const status = await session.getNetwork(network);
      if (values.json) {
        console.log(JSON.stringify({ status: backupFields(status), snapshots: await session.backups(network) }, null, 2));
        return;
      }
      // The status first: it still shows when the repository cannot be listed.
      for (const line of describeStatus(status)) console.log(line);
      const snapshots = await session.backups(network);
      if (snapshots.length === 0) console.log(`\nno backups yet: clanctl backup ${network}`);
      else console.log("");
      for (const snapshot of snapshots) console.log(`${snapshot.id.slice(0, 8)}   ${formatTime(snapshot.time)}   ${formatBytes(snapshot.size).padStart(10)}`);
      return;
    }
    case "restore": {
      if (values["no-wait"]) {
        console.log(await session.startRestore(network, positionals[1]));
        return;
      }
      const before = (await session.getNetwork(network)).vmState;
      const id = (await followJob(session, () => session.startRestore(network, positionals[1]), stderrOutput)).result;
      const after = (await session.getNetwork(network)).vmState;
      console.log(`${network}: restored backup ${id.slice(0, 8)}; the VM is ${after}${before === after ? "" : ` (it was ${before})`}`);
      return;
    }
  }
}

function backupFields(status: NetworkStatus) {
  return {
    state: status.backupState,
    lastSuccess: status.backupLastSuccess,
    lastAttempt: status.backupLastAttempt,
    error: status.backupError,
    warning: status.backupWarning,
    nextDue: status.backupNextDue,
    repositorySize: status.backupRepositorySize,
    freeSpace: status.backupFreeSpace,
  };
}

function describeStatus(status: NetworkStatus): string[] {
  if (status.backupNextDue === 0) return [`${status.name}: no backup configured`];
  const lines = [
    `${status.name}: backup ${status.backupState}`,
    `  last success   ${formatTime(status.backupLastSuccess)}`,
    `  last attempt   ${formatTime(status.backupLastAttempt)}`,
    `  next due       ${formatTime(status.backupNextDue)}`,
    `  repository     ${formatBytes(status.backupRepositorySize)}, ${status.backupFreeSpace < 0 ? "free space unknown" : `${formatBytes(status.backupFreeSpace)} free`}`,
  ];
  if (status.backupError) lines.push(`  error          ${terminalSafe(status.backupError)}`);
  if (status.backupWarning) lines.push(`  warning        ${terminalSafe(status.backupWarning)}`);
  return lines;
}

function formatTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "never";
}

function formatBytes(bytes: number): string {
  if (bytes < 0) return "size unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
