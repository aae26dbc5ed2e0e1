import { readFileSync } from "node:fs";
import type { MessageBus } from "@jellybrick/dbus-next";
import { ClanError, UsageError } from "../shared/errors.js";
import { isGroup, type Command, type CommandGroup } from "./command-spec.js";
import { findSubcommand, parseCommand } from "./command-parser.js";
import { ENTRIES } from "./command-table.js";
import { commandHelp, groupHelp, mainHelp } from "./help-text.js";

// clanctl's entry: finds the command in the table, parses its arguments, and only then imports the command's
// module (and with it zod, dbus-next and the rest), so that help, --version and mistakes answer at once.

export async function main(argv: string[]): Promise<void> {
  const [word, ...rest] = argv;
  if (word === undefined || word === "--help" || word === "-h" || (word === "help" && rest.length === 0)) {
    console.log(mainHelp());
    return;
  }
  if (word === "--version") {
    console.log(packageVersion());
    return;
  }
  const found = word === "help" ? findEntry(rest) : findEntry(argv);
  if (isGroup(found)) {
    console.log(groupHelp(found));
    return;
  }
  if (word === "help") {
    console.log(commandHelp(found));
    return;
  }
  const result = parseCommand(found, argv.slice(found.path.length));
  if (result.help) {
    console.log(commandHelp(found));
    return;
  }
  await runCommand(found, result.parsed);
}

async function runCommand(command: Command, parsed: Parameters<Command["run"]>[0]): Promise<void> {
  let bus: MessageBus | undefined;
  const busModule = command.bus === "dbus-next" ? await import("../shared/bus.js") : undefined;
  let failWithBus: (error: ClanError) => void = () => {};
  // A bus that cannot be reached or breaks ends the command with that cause, not with an unhandled "error" event.
  const busLost = new Promise<never>((_resolve, reject) => (failWithBus = reject));
  const connect = () => {
    if (!busModule) throw new Error(`clanctl ${command.path.join(" ")} is declared without dbus-next but asked for it`);
    if (bus) return bus;
    bus = busModule.connectSessionBus();
    busModule.onBusError(bus, (error) => failWithBus(new ClanError("Disconnected", `session bus (${process.env.DBUS_SESSION_BUS_ADDRESS}): ${error.message}`)));
    return bus;
  };
  try {
    await Promise.race([command.run(parsed, connect), busLost]);
  } finally {
    bus?.disconnect();
  }
}

/**
 * The command the first words name. A group named without a subcommand (`clanctl vm`, `clanctl vm --help`)
 * is returned itself, for its help.
 */
function findEntry(words: string[]): Command | CommandGroup {
  const [word, next] = words;
  const entry = ENTRIES.find((e) => e.path[0] === word);
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(word)}\nTry 'clanctl --help'.`);
  if (!isGroup(entry) || next === undefined || next === "--help" || next === "-h") return entry;
  return findSubcommand(entry, next);
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}
