import { HELP_OPTION, isGroup, type Command, type CommandGroup, type OptionSpec } from "./command-spec.js";
import { SECTIONS } from "./command-table.js";

// clanctl's help, written from the command table.

/** `clanctl status [--json]`, `clanctl restore NET [SNAPSHOT]`: how a command is written. */
export function synopsis(command: Command): string {
  const options = Object.entries(command.options).map(([name, spec]) => {
    const form = spec.required ? optionForm(name, spec) : `[${optionForm(name, spec)}]`;
    return spec.multiple ? `${form}…` : form;
  });
  const positionals = command.positionals.map((p) => (p.required ? p.name : `[${p.name}]`));
  return ["clanctl", ...command.path, ...positionals, ...options].join(" ");
}

export function commandHelp(command: Command): string {
  const options: [string, OptionSpec][] = [...Object.entries(command.options), ["help", HELP_OPTION]];
  const rows = options.map(([name, spec]) => [name === "help" ? "-h, --help" : optionForm(name, spec), describeOption(spec)] as const);
  const positionals = command.positionals.filter((p) => p.choices).map((p) => [p.name, `one of ${p.choices!.join(", ")}`] as const);
  return [
    `usage: ${synopsis(command)}`,
    "",
    `${capitalised(command.summary)}.`,
    ...(positionals.length > 0 ? ["", "arguments:", ...table(positionals)] : []),
    "",
    "options:",
    ...table(rows),
  ].join("\n");
}

export function groupHelp(group: CommandGroup): string {
  return [
    `usage: clanctl ${group.path[0]} COMMAND …`,
    "",
    `${capitalised(group.summary)}:`,
    ...table(group.subcommands.map((c) => [synopsis(c), c.summary] as const)),
    "",
    `Each command answers --help.`,
  ].join("\n");
}

export function mainHelp(): string {
  const lines = ["usage: clanctl COMMAND …", "       clanctl --version", ""];
  const sections = SECTIONS.map((section) => ({
    title: section.title,
    rows: section.entries.flatMap((entry) => (isGroup(entry) ? entry.subcommands : [entry]).map((c) => [c.path.join(" "), c.summary] as const)),
  }));
  const width = Math.max(...sections.flatMap((s) => s.rows.map(([left]) => left.length)));
  for (const section of sections) lines.push(`${section.title}:`, ...table(section.rows, width), "");
  lines.push("Each command answers --help: clanctl status --help, clanctl vm start --help.");
  return lines.join("\n");
}

function optionForm(name: string, spec: OptionSpec): string {
  return spec.type === "boolean" ? `--${name}` : `--${name} ${spec.value ?? "VALUE"}`;
}

function describeOption(spec: OptionSpec): string {
  return spec.choices ? `${spec.help}; one of ${spec.choices.join(", ")}` : spec.help;
}

function table(rows: readonly (readonly [string, string])[], width = Math.max(...rows.map(([left]) => left.length))): string[] {
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
