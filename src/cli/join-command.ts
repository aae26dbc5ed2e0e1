import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { MessageBus } from "@jellybrick/dbus-next";
import { addNetworkToConfig, freeColour, freeNetworkName, freeWorkspace, readConfigForEdit } from "./config-edit.js";
import { resolveConfigPath } from "../session/config/load.js";
import type { Config } from "../session/config/schema.js";
import { parseJoinLink } from "../shared/join-links/link-parser.js";
import { refuseLocalSourceFromOutside, requireFetchable } from "../shared/join-links/link-checks.js";
import type { JoinLink } from "../shared/join-links/join-link.js";
import { FetchedJoin } from "../shared/join-links/fetched-join.js";
import { describeRefusedInputs, readLockedInputs, refusedInputs } from "../shared/flake-source/locked-inputs.js";
import { readNetworkRequest } from "./links/network-request.js";
import { describeJoinRequest, readSourceVmSpec } from "./links/join-request.js";
import { DesktopNotifications } from "../shared/desktop-notifications.js";
import { fetchFlakeSource } from "../shared/flake-source/source-fetch.js";
import { ClanError, errorMessage, UsageError } from "../shared/errors.js";
import { describeNameProblem } from "../shared/network-name.js";
import { SessionClient } from "../shared/session-client.js";
import { shownText } from "../shared/shown-text.js";
import { followJob, stderrOutput } from "./job-follow.js";
import { readVmSpec } from "../shared/vm-spec.js";
import { confirmOnDesktop, confirmOnTerminal } from "./join-confirmation.js";
import { describeLink, describeRequest, describeVmSpec, type ChosenHere } from "./join-summary.js";

// `clanctl join LINK`: show what the link says and ask before anything is fetched; fetch the flake's source only
// and show what the network asks for (read as data: configs.json, vm.json, flake.lock) and ask again; then register
// the network in config.json with a free workspace and colour and have clan-sessiond build and boot its first
// generation. Nothing of the network's Nix is evaluated before the second yes (docs/links.md).
// The same join in two steps, for a caller that asks the second question itself (the manager window):
// `--fetch-only` stops after the fetch and prints what was fetched as JSON (FetchedJoin); `--build-fetched FILE`
// registers and builds exactly that revision, without resolving the link again.

interface JoinOptions {
  yes: boolean;
  fromDesktop: boolean;
  fetchOnly: boolean;
  name?: string | undefined;
  workspace?: string | undefined;
  colour?: string | undefined;
  config?: string | undefined;
}

interface JoinValues {
  yes: boolean;
  "from-desktop": boolean;
  "fetch-only": boolean;
  "build-fetched"?: string | undefined;
  name?: string | undefined;
  workspace?: string | undefined;
  colour?: string | undefined;
  config?: string | undefined;
}

export async function runJoinCommand({ values, positionals }: { values: JoinValues; positionals: string[] }, connect: () => MessageBus): Promise<void> {
  const { "from-desktop": fromDesktop, "fetch-only": fetchOnly, "build-fetched": fetchedFile, ...rest } = values;
  const options: JoinOptions = { ...rest, fromDesktop, fetchOnly };
  const [text, ...extra] = positionals;
  if (fetchedFile !== undefined) {
    if (text !== undefined || fetchOnly) throw new UsageError("join --build-fetched takes no link and no --fetch-only: the link is in the file\nTry 'clanctl join --help'.");
  } else if (text === undefined || extra.length > 0) throw new UsageError("join takes one link\nTry 'clanctl join --help'.");
  try {
    if (fetchedFile !== undefined) await buildFetched(await readFetchedJoin(fetchedFile), options, connect);
    else await joinNetwork(text!, options, connect);
  } catch (error) {
    // Launched from a browser, nobody reads stderr: the failure must reach the screen.
    if (fromDesktop) await notifyFailure(connect(), errorMessage(error));
    throw error;
  }
}

interface PreparedJoin {
  text: string;
  link: JoinLink;
  flake: string;
  chosen: ChosenHere;
}

/** The link checked and the network's name, workspace and colour chosen here: no I/O beyond reading config.json. */
async function prepareJoin(text: string, options: JoinOptions): Promise<PreparedJoin> {
  const link = parseJoinLink(text);
  if (options.fromDesktop) refuseLocalSourceFromOutside(link);
  const flake = requireFetchable(link);
  const { config } = await readConfigForEdit(configPath(options));
  const name = options.name ?? freeNetworkName(config, flake.replace(/\?.*$/, ""));
  refuseTaken(config, flake, name);
  return { text: text.trim(), link, flake, chosen: { name, workspace: options.workspace ?? freeWorkspace(config, name), colour: options.colour ?? freeColour(config) } };
}

function configPath(options: JoinOptions): string {
  return resolveConfigPath({ cliPath: options.config, env: process.env });
}

function refuseTaken(config: Config, flake: string, name: string): void {
  const joinedAs = Object.entries(config.networks).find(([, network]) => "flake" in network.source && network.source.flake === flake);
  if (joinedAs) throw new ClanError("InvalidArgument", `${flake} is already joined as network ${joinedAs[0]}`);
  const problem = describeNameProblem(name);
  if (problem) throw new ClanError("InvalidArgument", problem);
  if (name in config.networks) throw new ClanError("InvalidArgument", `a network named ${name} exists already; choose another with --name`);
}

async function joinNetwork(text: string, options: JoinOptions, connect: () => MessageBus): Promise<void> {
  const prepared = await prepareJoin(text, options);
  const { link, flake, chosen } = prepared;
  // With --fetch-only stdout carries the JSON alone; what a person reads goes to stderr.
  const say = options.fetchOnly ? console.error : console.log;

  // First question: from the link alone, before anything is fetched.
  const linkSummary = describeLink(link, flake, chosen);
  say(linkSummary);
  const from = link.host ?? "this computer";
  if (!(await confirmed(options, connect, `Fetch the source of network ${chosen.name} from ${from}?`, linkSummary, text, "fetch"))) {
    say("Nothing was fetched.");
    return;
  }

  say(`Fetching ${flake} …`);
  const fetched = await fetchForJoin(prepared, options);
  if (options.fetchOnly) {
    process.stdout.write(`${JSON.stringify(fetched)}\n`);
    return;
  }
  await askAndBuild(fetched, options, connect);
}

/** Step one: the source only, its inputs checked, what it asks for read as data. Nothing is registered or built. */
async function fetchForJoin(prepared: PreparedJoin, options: JoinOptions): Promise<FetchedJoin> {
  const source = await fetchFlakeSource(prepared.flake);
  const locked = await readLockedInputs(source.path);
  const refused = refusedInputs(locked.inputs, (await readConfigForEdit(configPath(options))).config.join.allowInputs);
  if (refused.length > 0) throw new ClanError("InvalidArgument", describeRefusedInputs(refused, "nothing was built or joined"));
  const request = await readNetworkRequest(source.path, prepared.link.machine);
  const sourceVm = await readSourceVmSpec(source.path);
  return FetchedJoin.parse({
    link: prepared.text,
    flake: prepared.flake,
    revision: source.revision,
    narHash: source.narHash,
    revisionDate: source.lastModified,
    storePath: source.path,
    ...prepared.chosen,
    request: describeJoinRequest(request, locked, sourceVm),
  });
}

/** What --fetch-only printed, read back ("-": stdin) and checked against the link it names. */
async function readFetchedJoin(file: string): Promise<FetchedJoin> {
  const read = file === "-" ? readStdin() : readFile(file, "utf8");
  const text = await read.catch((error: unknown) => {
    throw new ClanError("InvalidArgument", `cannot read ${file}: ${errorMessage(error)}`);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ClanError("InvalidArgument", `${file} is not what clanctl join --fetch-only prints: ${errorMessage(error)}`);
  }
  const parsed = FetchedJoin.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ClanError("InvalidArgument", `${file} is not what clanctl join --fetch-only prints: field ${issue?.path.join(".") || "(top level)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Step two on its own: the description is the caller's, so the link in it is checked again as a link. */
async function buildFetched(fetched: FetchedJoin, options: JoinOptions, connect: () => MessageBus): Promise<void> {
  const link = parseJoinLink(fetched.link);
  if (options.fromDesktop) refuseLocalSourceFromOutside(link);
  if (requireFetchable(link) !== fetched.flake) throw new ClanError("InvalidArgument", `the fetched join names ${shownText(fetched.flake, 300)}, which is not what its link ${shownText(fetched.link, 300)} says`);
  if (link.machine !== undefined && fetched.request.machine !== link.machine) throw new ClanError("InvalidArgument", `the fetched join builds machine ${fetched.request.machine}, but its link names ${link.machine}`);
  const chosen = { name: options.name ?? fetched.name, workspace: options.workspace ?? fetched.workspace, colour: options.colour ?? fetched.colour };
  await askAndBuild({ ...fetched, ...chosen }, options, connect);
}

async function askAndBuild(fetched: FetchedJoin, options: JoinOptions, connect: () => MessageBus): Promise<void> {
  // Second question: what the network asks for, before anything of it is evaluated, built or registered.
  const requestSummary = describeRequest(fetched);
  console.log(requestSummary);
  if (!(await confirmed(options, connect, `Join network ${fetched.name}?`, requestSummary, fetched.link, "join"))) {
    console.log("Nothing was joined.");
    return;
  }
  await registerAndBuild(fetched, options, connect);
}

/** Step two: register the network and build exactly the fetched revision (never the link resolved again). */
async function registerAndBuild(fetched: FetchedJoin, options: JoinOptions, connect: () => MessageBus): Promise<void> {
  const { name, workspace, colour } = fetched;
  const configFile = configPath(options);
  // Read again: the file may have been edited while the questions were open.
  const current = await readConfigForEdit(configFile);
  refuseTaken(current.config, fetched.flake, name);
  await addNetworkToConfig(configFile, current, name, { workspaces: [workspace], colour, source: { flake: fetched.flake, attribute: fetched.request.attribute } });
  console.log(`Registered network ${name} in ${configFile}.`);

  const session = await SessionClient.connect(connect()).catch((error: unknown) => {
    throw new ClanError("Disconnected", `${errorMessage(error)}; network ${name} is registered, start clan-sessiond and run: clanctl rebuild ${name}`);
  });
  await session.reloadConfig();
  console.log(`Building its first generation (clanctl build-log ${name} shows the log) …`);
  // The revision the user confirmed, not the branch as it is now: the server may have moved it since.
  await followJob(session, () => session.startRebuildRevision(name, fetched.revision), stderrOutput);
  const generation = (await session.generations(name)).find((g) => g.current);
  if (!generation) throw new ClanError("InvalidState", `${name} was rebuilt but has no current generation`);
  const vm = await readVmSpec(join(generation.path, "vm.json"));
  console.log(`${name}: generation ${generation.number} is running on workspace ${workspace}; the VM has ${describeVmSpec(vm)}.`);
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
