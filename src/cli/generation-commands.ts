import type { MessageBus } from "@jellybrick/dbus-next";
import { UsageError } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { SessionClient } from "../shared/session-client.js";
import { followJob, stderrOutput } from "./job-follow.js";

// `clanctl rebuild|rollback|generations|build-log|check-update`: a network's generations, through
// clan-sessiond. Without a network name, rebuild and rollback act on the focused workspace's network, which is
// what the keybindings in `clanctl sway-config` rely on.

export async function runGenerationCommand(
  command: string,
  { values, positionals }: { values: { to?: string | undefined; json?: boolean; "no-wait"?: boolean }; positionals: string[] },
  connect: () => MessageBus,
): Promise<void> {
  const session = await SessionClient.connect(connect());
  const network = positionals[0] ?? (await focusedOrFail(session, command));
  switch (command) {
    case "rebuild": {
      if (values["no-wait"]) {
        console.log(await session.startRebuild(network));
        return;
      }
      await followJob(session, () => session.startRebuild(network), stderrOutput);
      console.log(`${network}: rebuilt; generation ${(await session.generations(network)).find((g) => g.current)?.number} is running`);
      return;
    }
    case "rollback": {
      const to = values.to === undefined ? undefined : Number(values.to);
      if (to !== undefined && (!Number.isInteger(to) || to < 1)) throw new UsageError("rollback: --to takes a generation number\nTry 'clanctl rollback --help'.");
      if (values["no-wait"]) {
        console.log(await session.startRollback(network, to));
        return;
      }
      await followJob(session, () => session.startRollback(network, to), stderrOutput);
      console.log(`${network}: generation ${(await session.generations(network)).find((g) => g.current)?.number} is current`);
      return;
    }
    case "generations": {
      const generations = await session.generations(network);
      if (values.json) {
        console.log(JSON.stringify(generations, null, 2));
        return;
      }
      if (generations.length === 0) console.log(`${network} has no generations yet: clanctl rebuild ${network}`);
      for (const g of generations) {
        const date = new Date(g.createdAt).toISOString().replace("T", " ").slice(0, 19);
        console.log(`${String(g.number).padStart(4)}   ${date}   ${(g.revision || "-").slice(0, 12).padEnd(12)}${g.current ? "   (current)" : ""}`);
      }
      return;
    }
    case "build-log":
      console.log(terminalSafe(await session.buildLog(network), { multiline: true }));
      return;
    case "check-update":
      console.log(`${network}: ${(await session.checkUpdate(network)) ? "an update is available" : "up to date"}`);
      return;
  }
}

async function focusedOrFail(session: SessionClient, command: string): Promise<string> {
  const focused = await session.focusedNetwork();
  if (!focused) throw new UsageError(`${command}: no network name given and the focused workspace belongs to none\nTry 'clanctl ${command} --help'.`);
  return focused;
}
