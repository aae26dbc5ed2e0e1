import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import type { MessageBus } from "@jellybrick/dbus-next";
import { addNetworkToConfig, freeColour, freeNetworkName, freeWorkspace, readConfigForEdit } from "../session/config/config-edit.js";
import { resolveConfigPath } from "../session/config/load.js";
import { inspectFlake, type FlakeInspection } from "../session/links/flake-inspection.js";
import type { JoinLink } from "../session/links/join-link.js";
import { parseJoinLink } from "../session/links/link-parser.js";
import { ClanError, errorMessage } from "../shared/errors.js";
import { describeNameProblem } from "../shared/network-name.js";
import { SessionClient } from "../shared/session-client.js";
import { followJob, stderrOutput } from "./job-follow.js";
import { readVmSpec } from "../vmd/generation.js";
import { confirmOnDesktop, confirmOnTerminal } from "./join-confirmation.js";
import { describeConfigEntry, describeVmSpec } from "./join-summary.js";

// `clanctl join LINK`: read a network's link, show what joining fetches and runs, ask, register the network in
// config.json with a free workspace and colour, and have clan-sessiond build and boot its first generation.

export const JOIN_USAGE = `clanctl join LINK [--yes] [--name NET] [--workspace W] [--colour #rrggbb] [--config FILE]
                                 join a network from its clan:// or nix:// link (docs/links.md)`;

export async function runJoinCommand(args: string[], connect: () => MessageBus): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      yes: { type: "boolean", default: false },
      "from-desktop": { type: "boolean", default: false },
      name: { type: "string" },
      workspace: { type: "string" },
      colour: { type: "string" },
      config: { type: "string" },
    },
  });
  const [text, ...extra] = positionals;
  if (text === undefined || extra.length > 0) throw new ClanError("InvalidArgument", `clanctl join takes one link\n${JOIN_USAGE}`);
  const fromDesktop = values["from-desktop"];
  try {
    await joinNetwork(text, { ...values, fromDesktop }, connect);
  } catch (error) {
    // Launched from a browser, nobody reads stderr: the failure must reach the screen.
    if (fromDesktop) await notifyFailure(connect(), errorMessage(error));
    throw error;
  }
}

interface JoinOptions {
  yes: boolean;
  fromDesktop: boolean;
  name?: string | undefined;
  workspace?: string | undefined;
  colour?: string | undefined;
  config?: string | undefined;
}

async function joinNetwork(text: string, options: JoinOptions, connect: () => MessageBus): Promise<void> {
  const link = parseJoinLink(text);
  const flake = requireFetchable(link);
  const configFile = resolveConfigPath({ cliPath: options.config, env: process.env });
  const before = await readConfigForEdit(configFile);
  const joinedAs = Object.entries(before.config.networks).find(([, network]) => "flake" in network.source && network.source.flake === flake);
  if (joinedAs) throw new ClanError("InvalidArgument", `${flake} is already joined as network ${joinedAs[0]}`);

  console.log(`Reading ${flake} …`);
  const inspection = await inspectFlake(flake, link.machine);
  const name = options.name ?? freeNetworkName(before.config, flake.replace(/\?.*$/, ""));
  const problem = describeNameProblem(name);
  if (problem) throw new ClanError("InvalidArgument", problem);
  if (name in before.config.networks) throw new ClanError("InvalidArgument", `a network named ${name} exists already; choose another with --name`);
  const workspace = options.workspace ?? freeWorkspace(before.config, name);
  const colour = options.colour ?? freeColour(before.config);

  const summary = describeJoin(link, flake, inspection, { name, workspace, colour });
  console.log(summary);
  if (!(await confirmed(options, connect, name, summary, text))) {
    console.log("Nothing was joined.");
    return;
  }

  // Read again: the file may have been edited while the question was open.
  const current = await readConfigForEdit(configFile);
  await addNetworkToConfig(configFile, current, name, { workspaces: [workspace], colour, source: { flake, attribute: inspection.attribute } });
  console.log(`Registered network ${name} in ${configFile}.`);

  const session = await SessionClient.connect(connect()).catch((error: unknown) => {
    throw new ClanError("Disconnected", `${errorMessage(error)}; network ${name} is registered, start clan-sessiond and run: clanctl rebuild ${name}`);
  });
  await session.reloadConfig();
  console.log(`Building its first generation (clanctl build-log ${name} shows the log) …`);
  await followJob(session, () => session.startRebuild(name), stderrOutput);
  const generation = (await session.generations(name)).find((g) => g.current);
  if (!generation) throw new ClanError("InvalidState", `${name} was rebuilt but has no current generation`);
  const vm = await readVmSpec(join(generation.path, "vm.json"));
  console.log(`${name}: generation ${generation.number} is running on workspace ${workspace}; the VM has ${describeVmSpec(vm)}.`);
}

/** The flake reference to fetch, or a clear refusal for links whose transport this machine lacks. */
function requireFetchable(link: JoinLink): string {
  for (const tool of link.needs) {
    if (!hasBinary(tool)) throw new ClanError("InvalidState", `this link needs ${tool}, which is not installed on this machine; nothing was fetched`);
  }
  if (link.flake === undefined) {
    throw new ClanError("InvalidState", "clan-desktop cannot fetch a network from IPFS yet; ask the network for a clan:// or nix://https- link. Nothing was fetched");
  }
  return link.flake;
}

function describeJoin(link: JoinLink, flake: string, inspection: FlakeInspection, chosen: { name: string; workspace: string; colour: string }): string {
  const date = inspection.lastModified ? ` (${new Date(inspection.lastModified).toISOString().replace("T", " ").slice(0, 16)} UTC)` : "";
  const offers = inspection.machines.length > 1 ? `, of ${inspection.machines.join(", ")}` : "";
  const vm = inspection.configEntry
    ? describeConfigEntry(inspection.configEntry)
    : `known once built (${inspection.configProblem ?? "the flake has no configs.json entry for it"})`;
  const lines = [
    `Join a network from ${link.link}`,
    `  source:    ${flake}${link.host ? ` (from ${link.host})` : ""}`,
    `  revision:  ${inspection.revision}${date}`,
    `  machine:   ${inspection.machine}${offers} — builds ${inspection.attribute}`,
    `  the VM:    ${vm}`,
    `  here:      network ${chosen.name}, workspace ${JSON.stringify(chosen.workspace)}, colour ${chosen.colour}`,
    ...link.repairs.map((repair) => `  repaired:  ${repair}`),
    ...link.warnings.map((warning) => `  WARNING:   ${warning}`),
    "Joining builds this revision with Nix (in its sandbox) and runs the result in a VM on this computer.",
  ];
  return lines.join("\n");
}

async function confirmed(options: JoinOptions, connect: () => MessageBus, name: string, summary: string, text: string): Promise<boolean> {
  if (options.yes) return true;
  const terminalHint = `to join, run on a terminal: clanctl join ${JSON.stringify(text.slice(0, 200))}`;
  if (options.fromDesktop) return confirmOnDesktop(connect(), `Join network ${name}?`, summary, terminalHint);
  if (process.stdin.isTTY) return confirmOnTerminal(`Join network ${name}?`);
  throw new ClanError("InvalidArgument", "nothing was joined: clanctl join asks before it fetches and runs a network; answer on a terminal, or pass --yes from a script");
}

async function notifyFailure(bus: MessageBus, message: string): Promise<void> {
  try {
    const object = await bus.getProxyObject("org.freedesktop.Notifications", "/org/freedesktop/Notifications");
    const notifications = object.getInterface("org.freedesktop.Notifications") as unknown as {
      Notify(...args: unknown[]): Promise<number>;
    };
    await notifications.Notify("clan-desktop", 0, "", "Joining the network failed", message.slice(0, 2000), [], {}, -1);
  } catch (error) {
    console.error(`clanctl: cannot show the failure as a notification either: ${errorMessage(error)}`);
  }
}

function hasBinary(name: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory of PATH; the next one may have it.
      return false;
    }
  });
}
