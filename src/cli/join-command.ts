import { join } from "node:path";
import type { MessageBus } from "@jellybrick/dbus-next";
import { addNetworkToConfig, freeColour, freeNetworkName, freeWorkspace, readConfigForEdit } from "./config-edit.js";
import { resolveConfigPath } from "../session/config/load.js";
import { parseJoinLink } from "../shared/join-links/link-parser.js";
import { refuseLocalSourceFromOutside, requireFetchable } from "../shared/join-links/link-checks.js";
import { describeRefusedInputs, readLockedInputs, refusedInputs } from "../shared/flake-source/locked-inputs.js";
import { readNetworkRequest } from "./links/network-request.js";
import { DesktopNotifications } from "../shared/desktop-notifications.js";
import { fetchFlakeSource } from "../shared/flake-source/source-fetch.js";
import { ClanError, errorMessage, UsageError } from "../shared/errors.js";
import { describeNameProblem } from "../shared/network-name.js";
import { SessionClient } from "../shared/session-client.js";
import { followJob, stderrOutput } from "./job-follow.js";
import { readVmSpec } from "../shared/vm-spec.js";
import { confirmOnDesktop, confirmOnTerminal } from "./join-confirmation.js";
import { describeLink, describeRequest, describeVmSpec } from "./join-summary.js";

// `clanctl join LINK`: show what the link says and ask before anything is fetched; fetch the flake's source only
// and show what the network asks for (read as data: configs.json, flake.lock) and ask again; then register the
// network in config.json with a free workspace and colour and have clan-sessiond build and boot its first
// generation. Nothing of the network's Nix is evaluated before the second yes (docs/links.md).

export async function runJoinCommand(
  { values, positionals }: { values: Omit<JoinOptions, "fromDesktop"> & { "from-desktop": boolean }; positionals: string[] },
  connect: () => MessageBus,
): Promise<void> {
  const [text, ...extra] = positionals;
  if (text === undefined || extra.length > 0) throw new UsageError("join takes one link\nTry 'clanctl join --help'.");
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
  if (options.fromDesktop) refuseLocalSourceFromOutside(link);
  const flake = requireFetchable(link);
  const configFile = resolveConfigPath({ cliPath: options.config, env: process.env });
  const before = await readConfigForEdit(configFile);
  const joinedAs = Object.entries(before.config.networks).find(([, network]) => "flake" in network.source && network.source.flake === flake);
  if (joinedAs) throw new ClanError("InvalidArgument", `${flake} is already joined as network ${joinedAs[0]}`);
  const name = options.name ?? freeNetworkName(before.config, flake.replace(/\?.*$/, ""));
  const problem = describeNameProblem(name);
  if (problem) throw new ClanError("InvalidArgument", problem);
  if (name in before.config.networks) throw new ClanError("InvalidArgument", `a network named ${name} exists already; choose another with --name`);
  const chosen = { name, workspace: options.workspace ?? freeWorkspace(before.config, name), colour: options.colour ?? freeColour(before.config) };

  // First question: from the link alone, before anything is fetched.
  const linkSummary = describeLink(link, flake, chosen);
  console.log(linkSummary);
  const from = link.host ?? "this computer";
  if (!(await confirmed(options, connect, `Fetch the source of network ${name} from ${from}?`, linkSummary, text, "fetch"))) {
    console.log("Nothing was fetched.");
    return;
  }

  console.log(`Fetching ${flake} …`);
  const source = await fetchFlakeSource(flake);
  const locked = await readLockedInputs(source.path);
  const refused = refusedInputs(locked.inputs, before.config.join.allowInputs);
  if (refused.length > 0) throw new ClanError("InvalidArgument", describeRefusedInputs(refused, "nothing was built or joined"));
  const request = await readNetworkRequest(source.path, link.machine);

  // Second question: what the network asks for, before anything of it is evaluated, built or registered.
  const requestSummary = describeRequest(source, request, locked, chosen);
  console.log(requestSummary);
  if (!(await confirmed(options, connect, `Join network ${name}?`, requestSummary, text, "join"))) {
    console.log("Nothing was joined.");
    return;
  }

  // Read again: the file may have been edited while the questions were open.
  const current = await readConfigForEdit(configFile);
  await addNetworkToConfig(configFile, current, name, { workspaces: [chosen.workspace], colour: chosen.colour, source: { flake, attribute: request.attribute } });
  console.log(`Registered network ${name} in ${configFile}.`);

  const session = await SessionClient.connect(connect()).catch((error: unknown) => {
    throw new ClanError("Disconnected", `${errorMessage(error)}; network ${name} is registered, start clan-sessiond and run: clanctl rebuild ${name}`);
  });
  await session.reloadConfig();
  console.log(`Building its first generation (clanctl build-log ${name} shows the log) …`);
  // The revision the user confirmed, not the branch as it is now: the server may have moved it since.
  await followJob(session, () => session.startRebuildRevision(name, source.revision), stderrOutput);
  const generation = (await session.generations(name)).find((g) => g.current);
  if (!generation) throw new ClanError("InvalidState", `${name} was rebuilt but has no current generation`);
  const vm = await readVmSpec(join(generation.path, "vm.json"));
  console.log(`${name}: generation ${generation.number} is running on workspace ${chosen.workspace}; the VM has ${describeVmSpec(vm)}.`);
}

async function confirmed(options: JoinOptions, connect: () => MessageBus, question: string, summary: string, text: string, step: "fetch" | "join"): Promise<boolean> {
  if (options.yes) return true;
  const terminalHint = `to join, run on a terminal: clanctl join ${JSON.stringify(text.slice(0, 200))}`;
  if (options.fromDesktop) return confirmOnDesktop(connect(), question, summary, step === "fetch" ? "Fetch" : "Join", terminalHint);
  if (process.stdin.isTTY) return confirmOnTerminal(question);
  throw new ClanError("InvalidArgument", `nothing was ${step === "fetch" ? "fetched" : "joined"}: clanctl join asks before it fetches and runs a network; answer on a terminal, or pass --yes from a script`);
}

async function notifyFailure(bus: MessageBus, message: string): Promise<void> {
  try {
    await (await DesktopNotifications.connect(bus)).show({ summary: "Joining the network failed", body: message });
  } catch (error) {
    console.error(`clanctl: cannot show the failure as a notification either: ${errorMessage(error)}`);
  }
}
