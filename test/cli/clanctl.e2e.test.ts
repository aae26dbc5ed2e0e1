import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { clanctl } from "../helpers/daemons.js";

// bin/clanctl.js as users run it (from dist/: npm run build first): help, version, exit codes, completions,
// and that the one-shot answers load no command module and none of the dependencies behind them.

const REPO = new URL("../../", import.meta.url).pathname;
const LOG_IMPORTS = new URL("./fixtures/log-imports.mjs", import.meta.url).pathname;
// No session bus to reach: an operation fails, which must not look like a usage error.
const NO_BUS = { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/clanctl-e2e-bus" };

/** The modules clanctl resolves for `args`, as "imports URL" lines. */
async function importsOf(args: string[]): Promise<string[]> {
  const result = await execa("node", ["--import", LOG_IMPORTS, `${REPO}bin/clanctl.js`, ...args], { reject: false, env: NO_BUS });
  return result.stderr.split("\n").filter((line) => line.startsWith("imports "));
}

describe("clanctl as a command-line program", () => {
  it("prints its help with no arguments, --help, -h and help, exit 0", async () => {
    for (const args of [[], ["--help"], ["-h"], ["help"]]) {
      const result = await clanctl(args, NO_BUS);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).toMatch(/^usage: clanctl COMMAND …/);
      expect(result.stdout).toContain("  vm start ");
    }
  });

  it("answers --help for a command and a subcommand with its own usage, exit 0", async () => {
    for (const [args, usage] of [
      [["status", "--help"], "usage: clanctl status [--json]"],
      [["help", "restore"], "usage: clanctl restore NET [SNAPSHOT] [--no-wait]"],
      [["vm", "start", "-h"], "usage: clanctl vm start NET --profile DIR [--share DIR]…"],
      [["vm"], "usage: clanctl vm COMMAND …"],
    ] as const) {
      const result = await clanctl([...args], NO_BUS);
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout.split("\n")[0]).toBe(usage);
    }
  });

  it("prints package.json's version for --version", async () => {
    const { version } = JSON.parse(await readFile(`${REPO}package.json`, "utf8")) as { version: string };
    const result = await clanctl(["--version"], NO_BUS);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(version);
  });

  it("exits 2 naming the mistake for an unknown command, option or subcommand and a missing or extra argument", async () => {
    for (const [args, message] of [
      [["frobnicate"], 'clanctl: unknown command "frobnicate"'],
      [["status", "--bogus"], "clanctl: status: unknown option --bogus"],
      [["vm", "reboot", "alpha"], 'clanctl: vm: unknown command "reboot"'],
      [["switch"], "clanctl: switch: missing NET"],
      [["peers", "family", "extra"], 'clanctl: peers: unexpected argument "extra"'],
      [["bar", "--format", "lemonbar"], "clanctl: bar: option --format must be one of i3bar, waybar, i3blocks"],
    ] as const) {
      const result = await clanctl([...args], NO_BUS);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr.split("\n")[0]).toContain(message);
      expect(result.stdout).toBe("");
    }
  });

  it("exits 1 when a well-formed command fails", async () => {
    const result = await clanctl(["status"], NO_BUS);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toMatch(/^clanctl: /);
  });

  it("prints the same completion scripts as share/ holds", async () => {
    const result = await clanctl(["completions", "fish"], NO_BUS);
    expect(result.exitCode).toBe(0);
    expect(`${result.stdout}\n`).toBe(await readFile(`${REPO}share/fish/vendor_completions.d/clanctl.fish`, "utf8"));
  });

  it("loads no command module and no dependency for --help, --version, a command's --help and a usage error", async () => {
    const commandModule = /-commands?-[A-Z0-9]+\.js$/;
    for (const args of [["--help"], ["--version"], ["status", "--help"], ["rebuild", "--bogus"]]) {
      const loaded = await importsOf(args);
      expect(loaded).toContain(`imports file://${REPO}dist/clanctl-bundle/clanctl.js`);
      expect(loaded.filter((line) => line.includes("node_modules") || commandModule.test(line))).toEqual([]);
    }
    // The same probe sees a command that runs load its module; one that keys and bar clicks run, no dependency.
    const status = await importsOf(["status"]);
    expect(status.filter((line) => commandModule.test(line))).toEqual([expect.stringMatching(/\/session-commands-[A-Z0-9]+\.js$/)]);
    expect(status.filter((line) => line.includes("node_modules"))).toEqual([]);
    const rebuild = await importsOf(["rebuild", "family"]);
    expect(rebuild.some((line) => line.includes("node_modules/@jellybrick/dbus-next"))).toBe(true);
  });
});
