import type { MessageBus } from "@jellybrick/dbus-next";
import { ClanError, UsageError } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { GrantPath, type ShareGrant } from "../shared/share-grants.js";
import type { VmStatus } from "../shared/vm-api.js";
import { VmdClient } from "../shared/vmd-client.js";

// `clanctl vm …`: the low-level commands for scripts, talking to clan-vmd directly.

export async function runVmCommand(
  action: string,
  { values, positionals }: { values: { profile?: string | undefined; share?: string[]; json?: boolean; bytes?: string | undefined }; positionals: string[] },
  connect: () => MessageBus,
): Promise<void> {
  const vmd = await VmdClient.connect(connect());
  const network = () => {
    const name = positionals[0];
    if (!name) throw new UsageError(`vm ${action} needs a network name\nTry 'clanctl vm ${action} --help'.`);
    return name;
  };
  switch (action) {
    case "start": {
      if (!values.profile) throw new UsageError("vm start needs --profile DIR\nTry 'clanctl vm start --help'.");
      printStatus(await vmd.start(network(), values.profile, { shareGrants: (values.share ?? []).map(parseShareGrant) }));
      return;
    }
    case "stop":
      printStatus(await vmd.stop(network()));
      return;
    case "pause":
      printStatus(await vmd.pause(network()));
      return;
    case "resume":
      printStatus(await vmd.resume(network()));
      return;
    case "list": {
      const vms = await vmd.list();
      if (values.json) console.log(JSON.stringify(vms, null, 2));
      else printTable(vms);
      return;
    }
    case "log":
      // The guest wrote these bytes: its escapes (OSC 52 clipboard writes, titles, screen clears) are shown, not run.
      process.stdout.write(terminalSafe(await vmd.consoleTail(network(), Number(values.bytes ?? 16384)), { multiline: true }));
      return;
    default:
      throw new UsageError(`unknown vm command ${JSON.stringify(action)}\nTry 'clanctl vm --help'.`);
  }
}

/** "--share /home/u/Sync" grants read-only, "--share /home/u/Sync:rw" read-write. */
export function parseShareGrant(argument: string): ShareGrant {
  const readWrite = argument.endsWith(":rw");
  const path = readWrite ? argument.slice(0, -":rw".length) : argument.replace(/:ro$/, "");
  const parsed = GrantPath.safeParse(path);
  if (!parsed.success) throw new ClanError("InvalidArgument", `--share ${JSON.stringify(argument)}: the path ${parsed.error.issues[0]?.message}`);
  return { path: parsed.data, readWrite };
}

function printStatus(status: VmStatus): void {
  console.log(`${status.network}: ${status.state}${status.error ? ` (${terminalSafe(status.error)})` : ""}`);
}

function printTable(vms: VmStatus[]): void {
  if (vms.length === 0) {
    console.log("no VMs");
    return;
  }
  const rows = vms.map((vm) => [vm.network, vm.state, vm.pid ? String(vm.pid) : "-", vm.accelerator || "-", terminalSafe(vm.generation) || "-"]);
  const header = ["NETWORK", "STATE", "PID", "ACCEL", "GENERATION"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}
