import type { MessageBus } from "@jellybrick/dbus-next";

// The shape of clanctl's command table (command-table.ts). One declaration per command gives its --help, its
// parsing, its dispatch and the shell completions, so that they cannot drift apart. This module and the table
// import nothing heavy: `clanctl --help`, `--version` and `completions` load no command module.

export interface OptionSpec {
  type: "boolean" | "string";
  help: string;
  /** The value's name in help text; FILE and DIR also make the shells complete paths. */
  value?: string;
  /** The only values accepted, which the shells also offer. */
  choices?: readonly string[];
  multiple?: boolean;
  /** The command cannot run without it (a string option). */
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  choices?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What a command's run function receives: every declared option (booleans default to false, repeatable ones to []). */
export interface ParsedCommand<O extends OptionSpecs = OptionSpecs> {
  values: {
    [K in keyof O]: O[K]["type"] extends "boolean" ? boolean : O[K]["multiple"] extends true ? string[] : string | undefined;
  };
  positionals: string[];
}

export type Connect = () => MessageBus;

export type BusUse = "dbus-next" | "own" | "none";

export interface Command {
  /** The words that name it: ["status"], or ["vm", "start"] for a subcommand. */
  path: readonly string[];
  summary: string;
  options: OptionSpecs;
  positionals: readonly PositionalSpec[];
  /**
   * How it reaches the session bus: "dbus-next" hands its run a connect function (and loads dbus-next when run);
   * "own" opens its own small connection (src/cli/wire/), so that keys and bar clicks start fast; "none" needs none.
   */
  bus: BusUse;
  run(parsed: ParsedCommand, connect: Connect): Promise<void>;
}

/** A command whose subcommands are the next word, as `clanctl vm start`. */
export interface CommandGroup {
  path: readonly [string];
  summary: string;
  subcommands: readonly Command[];
}

export interface Section {
  title: string;
  entries: readonly (Command | CommandGroup)[];
}

export function isGroup(entry: Command | CommandGroup): entry is CommandGroup {
  return "subcommands" in entry;
}

/** Declares a command with its run function typed by its own options. */
export function command<const O extends OptionSpecs>(spec: {
  path: readonly string[];
  summary: string;
  options?: O;
  positionals?: readonly PositionalSpec[];
  bus?: BusUse;
  run(parsed: ParsedCommand<O>, connect: Connect): Promise<void>;
}): Command {
  return {
    path: spec.path,
    summary: spec.summary,
    options: spec.options ?? {},
    positionals: spec.positionals ?? [],
    bus: spec.bus ?? "dbus-next",
    // The parser builds `values` from these very options, so the narrower type holds.
    run: spec.run as Command["run"],
  };
}

export const HELP_OPTION: OptionSpec = { type: "boolean", help: "show this help" };
