import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPLETION_FILES, completionScript } from "../../src/cli/completions.js";
import { SHELLS } from "../../src/cli/command-table.js";
import { hasBinary } from "../helpers/processes.js";

// The completion scripts, generated from clanctl's command table, loaded into the real shells: what a user gets
// on TAB. zsh and fish are installed by scripts/setup.sh; where they are missing, their tests are skipped.

const SHARE = new URL("../../share/", import.meta.url);
const ZSH_CAPTURE = new URL("./fixtures/zsh-capture-completion.zsh", import.meta.url).pathname;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "clanctl-completions-"));
  await writeFile(join(dir, "clanctl.bash"), completionScript("bash"));
  await writeFile(join(dir, "_clanctl"), completionScript("zsh"));
  await writeFile(join(dir, "clanctl.fish"), completionScript("fish"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it.each(SHELLS)("the %s script in share/ is what the command table generates (npm run schemas writes it)", async (shell) => {
  expect(await readFile(new URL(COMPLETION_FILES[shell], SHARE), "utf8")).toBe(completionScript(shell));
});

describe("bash", () => {
  async function complete(words: string[]): Promise<string[]> {
    const script = `source ${JSON.stringify(join(dir, "clanctl.bash"))}
      COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}
      _clanctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await execa("bash", ["--norc", "--noprofile", "-c", script]);
    return stdout.split("\n").filter(Boolean).sort();
  }

  it("registers _clanctl for clanctl", async () => {
    const { stdout } = await execa("bash", ["--norc", "--noprofile", "-c", `source ${JSON.stringify(join(dir, "clanctl.bash"))}; complete -p clanctl`]);
    expect(stdout).toBe("complete -F _clanctl clanctl");
  });

  it("completes commands, a command's options, option values and subcommands", async () => {
    expect(await complete(["clanctl", "st"])).toEqual(["start", "status", "stop"]);
    expect(await complete(["clanctl", "status", "--"])).toEqual(["--help", "--json"]);
    expect(await complete(["clanctl", "vm", "start", "alpha", "--"])).toEqual(["--help", "--profile", "--share"]);
    expect(await complete(["clanctl", "bar", "--format", ""])).toEqual(["i3bar", "i3blocks", "waybar"]);
    expect(await complete(["clanctl", "vm", "re"])).toEqual(["resume"]);
    expect(await complete(["clanctl", "completions", ""])).toEqual(["bash", "fish", "zsh"]);
    expect(await complete(["clanctl", "rollback", "--to", ""])).toEqual([]);
  }, 30_000);
});

describe.skipIf(!hasBinary("zsh"))("zsh (needs zsh)", () => {
  async function complete(line: string): Promise<string[]> {
    const out = join(dir, `zsh-${Math.random().toString(36).slice(2)}`);
    await writeFile(out, "");
    await execa("zsh", ["-f", ZSH_CAPTURE, dir, out, line], { timeout: 30_000 });
    return [...new Set((await readFile(out, "utf8")).split("\n").filter(Boolean))].sort();
  }

  it("completes commands, a command's options, option values and subcommands", async () => {
    expect(await complete("clanctl st")).toEqual(["start", "status", "stop"]);
    expect(await complete("clanctl status --")).toEqual(["--help", "--json"]);
    expect(await complete("clanctl vm start alpha --")).toEqual(["--help", "--profile", "--share"]);
    expect(await complete("clanctl bar --format ")).toEqual(["i3bar", "i3blocks", "waybar"]);
    expect(await complete("clanctl vm ")).toEqual(["list", "log", "pause", "resume", "start", "stop"]);
  }, 120_000);
});

describe.skipIf(!hasBinary("fish"))("fish (needs fish)", () => {
  async function complete(line: string): Promise<string[]> {
    const { stdout } = await execa("fish", ["--no-config", "-c", `source ${join(dir, "clanctl.fish")}; complete -C ${JSON.stringify(line)}`]);
    return stdout.split("\n").filter(Boolean).map((candidate) => candidate.split("\t")[0]!).sort();
  }

  it("completes commands, a command's options, option values and subcommands", async () => {
    expect(await complete("clanctl st")).toEqual(["start", "status", "stop"]);
    expect(await complete("clanctl status --")).toEqual(["--help", "--json"]);
    expect(await complete("clanctl vm start alpha --")).toEqual(["--help", "--profile", "--share"]);
    expect(await complete("clanctl bar --format ")).toEqual(["i3bar", "i3blocks", "waybar"]);
    expect(await complete("clanctl vm ")).toEqual(["list", "log", "pause", "resume", "start", "stop"]);
  });
});
