import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/shared/errors.js";
import { isGroup, type Command } from "../../src/cli/command-spec.js";
import { findSubcommand, parseCommand } from "../../src/cli/command-parser.js";
import { ENTRIES } from "../../src/cli/command-table.js";
import { commandHelp, groupHelp, mainHelp, synopsis } from "../../src/cli/help-text.js";

// clanctl's command table and its parser: every command answers --help with its own usage, and every mistake
// is a UsageError (exit 2) that names what was wrong.

const COMMANDS: Command[] = ENTRIES.flatMap((entry) => (isGroup(entry) ? entry.subcommands : [entry]));
const byName = (name: string) => COMMANDS.find((c) => c.path.join(" ") === name)!;

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("no UsageError was thrown");
}

describe("clanctl's command table", () => {
  it.each(COMMANDS.map((c) => [c.path.join(" "), c] as const))("%s answers --help and -h with its own usage", (name, command) => {
    expect(parseCommand(command, ["--help"])).toEqual({ help: true });
    expect(parseCommand(command, ["-h"])).toEqual({ help: true });
    const help = commandHelp(command);
    expect(help.split("\n")[0]).toBe(`usage: ${synopsis(command)}`);
    expect(synopsis(command).startsWith(`clanctl ${name}`)).toBe(true);
    for (const option of Object.keys(command.options)) expect(help).toContain(`--${option}`);
    expect(mainHelp()).toContain(`  ${name} `);
  });

  it("answers --help even on a line with other mistakes", () => {
    expect(parseCommand(byName("switch"), ["--bogus", "--help"])).toEqual({ help: true });
  });

  it.each(COMMANDS.map((c) => [c.path.join(" "), c] as const))("%s refuses an unknown option, naming it", (name, command) => {
    expect(usageError(() => parseCommand(command, ["--frobnicate"])).message).toBe(`${name}: unknown option --frobnicate\nTry 'clanctl ${name} --help'.`);
    expect(usageError(() => parseCommand(command, ["-z"])).message).toContain("unknown option -z");
  });

  it("parses declared options and positionals, with defaults for the rest", () => {
    expect(parseCommand(byName("status"), ["--json"])).toEqual({ help: false, parsed: { values: { json: true }, positionals: [] } });
    expect(parseCommand(byName("rollback"), ["family", "--to", "2"])).toEqual({ help: false, parsed: { values: { to: "2", "no-wait": false }, positionals: ["family"] } });
    expect(parseCommand(byName("rollback"), ["--to=3", "--no-wait"])).toEqual({ help: false, parsed: { values: { to: "3", "no-wait": true }, positionals: [] } });
    expect(parseCommand(byName("vm start"), ["a", "--profile", "/p", "--share", "/x", "--share", "/y:rw"])).toEqual({
      help: false,
      parsed: { values: { profile: "/p", share: ["/x", "/y:rw"] }, positionals: ["a"] },
    });
    expect(parseCommand(byName("bar"), [])).toEqual({ help: false, parsed: { values: { format: undefined, network: undefined }, positionals: [] } });
    // After "--" a word that looks like an option is an argument.
    expect(parseCommand(byName("switch"), ["--", "--odd"])).toEqual({ help: false, parsed: { values: {}, positionals: ["--odd"] } });
  });

  it("refuses missing, extra and ill-formed arguments, naming them", () => {
    expect(usageError(() => parseCommand(byName("switch"), [])).message).toContain("switch: missing NET");
    expect(usageError(() => parseCommand(byName("block"), ["family"])).message).toContain("block: missing PEER");
    expect(usageError(() => parseCommand(byName("status"), ["extra"])).message).toContain('status: unexpected argument "extra"');
    expect(usageError(() => parseCommand(byName("start"), ["a", "b"])).message).toContain('start: unexpected argument "b"');
    expect(usageError(() => parseCommand(byName("rollback"), ["--to"])).message).toContain("rollback: option --to needs a value (N)");
    expect(usageError(() => parseCommand(byName("join"), ["--name", "--yes", "clan://x"])).message).toContain(
      'join: option --name needs a value (NET), not the option-like "--yes"',
    );
    expect(parseCommand(byName("join"), ["--name=-odd", "clan://x"])).toMatchObject({ parsed: { values: { name: "-odd" } } });
    expect(usageError(() => parseCommand(byName("rollback"), ["--to", "1", "--to", "2"])).message).toContain("option --to is given twice");
    expect(usageError(() => parseCommand(byName("status"), ["--json=yes"])).message).toContain("option --json takes no value");
    expect(usageError(() => parseCommand(byName("bar"), ["--format", "lemonbar"])).message).toContain(
      'option --format must be one of i3bar, waybar, i3blocks, not "lemonbar"',
    );
    expect(usageError(() => parseCommand(byName("completions"), ["tcsh"])).message).toContain('SHELL must be one of bash, zsh, fish, not "tcsh"');
    expect(usageError(() => parseCommand(byName("vm start"), ["a"])).message).toContain("vm start: missing --profile DIR");
  });

  it("names an unknown subcommand of a group and lists the ones there are", () => {
    const vm = ENTRIES.find(isGroup)!;
    expect(findSubcommand(vm, "list").path).toEqual(["vm", "list"]);
    expect(usageError(() => findSubcommand(vm, "reboot")).message).toContain('vm: unknown command "reboot"; there are start, stop, pause, resume, list, log');
    for (const sub of vm.subcommands) expect(groupHelp(vm)).toContain(synopsis(sub));
  });

  it("declares each command once", () => {
    const names = COMMANDS.map((c) => c.path.join(" "));
    expect(new Set(names).size).toBe(names.length);
  });
});
