import { parseArgs } from "node:util";
import { UsageError } from "../shared/errors.js";
import { HELP_OPTION, type Command, type CommandGroup, type OptionSpec, type ParsedCommand } from "./command-spec.js";

// Turns a command's arguments into its declared options and positionals, refusing anything else with a
// UsageError (exit 2) that names the offending word. node:util's parseArgs splits the words; the checks are
// ours so that every message says which command and points at its --help.

export type ParseResult = { help: true } | { help: false; parsed: ParsedCommand };

export function parseCommand(command: Command, args: string[]): ParseResult {
  const name = `clanctl ${command.path.join(" ")}`;
  const fail = (problem: string) => new UsageError(`${command.path.join(" ")}: ${problem}\nTry '${name} --help'.`);
  const options: Record<string, OptionSpec> = { ...command.options, help: HELP_OPTION };
  const { tokens } = parseArgs({
    args,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: { ...Object.fromEntries(Object.entries(options).map(([key, spec]) => [key, { type: spec.type }])), help: { type: "boolean", short: "h" } },
  });
  // --help wins over any other mistake on the line: the user is asking how to write it.
  if (tokens.some((token) => token.kind === "option" && token.name === "help")) return { help: true };
  const values: Record<string, boolean | string | string[] | undefined> = {};
  for (const [key, spec] of Object.entries(command.options)) values[key] = spec.type === "boolean" ? false : spec.multiple ? [] : undefined;
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw fail(`unknown option ${token.rawName}`);
    if (spec.type === "boolean") {
      if (token.value !== undefined) throw fail(`option ${token.rawName} takes no value`);
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined) throw fail(`option ${token.rawName} needs a value (${spec.value ?? "VALUE"})`);
    // As strict parseArgs does: `--name --yes` is more likely a forgotten value than a name.
    if (token.inlineValue === false && token.value.startsWith("-")) {
      throw fail(`option ${token.rawName} needs a value (${spec.value ?? "VALUE"}), not the option-like ${JSON.stringify(token.value)}; write ${token.rawName}=${token.value} if you mean it`);
    }
    if (spec.choices && !spec.choices.includes(token.value)) {
      throw fail(`option ${token.rawName} must be one of ${spec.choices.join(", ")}, not ${JSON.stringify(token.value)}`);
    }
    if (spec.multiple) (values[token.name] as string[]).push(token.value);
    else if (values[token.name] !== undefined) throw fail(`option ${token.rawName} is given twice`);
    else values[token.name] = token.value;
  }
  for (const [key, spec] of Object.entries(command.options)) if (spec.required && values[key] === undefined) throw fail(`missing --${key} ${spec.value ?? "VALUE"}`);
  const required = command.positionals.filter((p) => p.required);
  if (positionals.length < required.length) throw fail(`missing ${required.slice(positionals.length).map((p) => p.name).join(" ")}`);
  if (positionals.length > command.positionals.length) throw fail(`unexpected argument ${JSON.stringify(positionals[command.positionals.length])}`);
  command.positionals.forEach((spec, index) => {
    const value = positionals[index];
    if (value !== undefined && spec.choices && !spec.choices.includes(value)) {
      throw fail(`${spec.name} must be one of ${spec.choices.join(", ")}, not ${JSON.stringify(value)}`);
    }
  });
  return { help: false, parsed: { values, positionals } as ParsedCommand };
}

/** The subcommand a group's next word names, or a UsageError listing the ones there are. */
export function findSubcommand(group: CommandGroup, word: string): Command {
  const found = group.subcommands.find((c) => c.path[1] === word);
  if (found) return found;
  const name = `clanctl ${group.path[0]}`;
  throw new UsageError(`${group.path[0]}: unknown command ${JSON.stringify(word)}; there are ${group.subcommands.map((c) => c.path[1]).join(", ")}\nTry '${name} --help'.`);
}
