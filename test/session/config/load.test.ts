import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFile, resolveConfigPath } from "../../../src/session/config/load.js";
import { configText, makeTempDir, networkInput, type TempDir } from "./fixtures.js";

let dir: TempDir;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe("loadConfigFile", () => {
  it("loads a valid file", async () => {
    const file = await dir.write("config.json", configText({ family: networkInput() }));
    const result = await loadConfigFile(file);
    expect(result.ok && Object.keys(result.config.networks)).toEqual(["family"]);
  });

  it("accepts a byte-order mark", async () => {
    const file = await dir.write("config.json", `\uFEFF${configText({})}`);
    expect((await loadConfigFile(file)).ok).toBe(true);
  });

  it("reads a config full of comments and odd formatting as the same config without them", async () => {
    const plain = configText({ family: networkInput() });
    const commented = [
      "// my networks",
      "/* written by hand,",
      "   on two lines */",
      plain
        .replace('"networks"', '/* ← the only field */ "networks"  ')
        .replace('"family"', '// the family first\n\t\t"family"   ')
        .replaceAll('": ', '" :\t ')
        .replaceAll("\n", "  // end of line\n"),
      "// the end",
    ].join("\n");
    expect(commented).toMatch(/\/\/ the family first/);
    const [withComments, without] = [await loadConfigFile(await dir.write("a.json", commented)), await loadConfigFile(await dir.write("b.json", plain))];
    expect(withComments.ok && without.ok).toBe(true);
    expect(withComments.ok && withComments.config).toEqual(without.ok && without.config);
  });

  it("reports a missing file as such", async () => {
    const file = dir.file("absent/config.json");
    expect(await loadConfigFile(file)).toEqual({
      ok: false,
      error: { kind: "missing", file, message: expect.stringContaining(`${file}: no such file`) },
    });
  });

  it("reports a directory where the file should be as unreadable", async () => {
    await mkdir(dir.file("config.json"));
    const result = await loadConfigFile(dir.file("config.json"));
    expect(result.ok || result.error).toMatchObject({ kind: "unreadable", reason: expect.stringMatching(/EISDIR/) });
  });

  it("names the file and the field of a validation error", async () => {
    const file = await dir.write("config.json", configText({ family: networkInput({ colour: "blue" }) }));
    const result = await loadConfigFile(file);
    expect(result.ok || result.error).toEqual({
      kind: "invalid",
      file,
      problems: [{ path: "networks.family.colour", reason: 'must be a colour "#rrggbb", got "blue"' }],
      message: `${file}: networks.family.colour: must be a colour "#rrggbb", got "blue"`,
    });
  });

  it("reports every invalid field at once", async () => {
    const file = await dir.write("config.json", configText({ family: networkInput({ colour: "blue", vm: { cores: 0 } }) }));
    const result = await loadConfigFile(file);
    expect(result.ok || result.error.message.split("\n")).toEqual([
      `${file}: networks.family.colour: must be a colour "#rrggbb", got "blue"`,
      expect.stringMatching(new RegExp(`^${file}: networks\\.family\\.vm\\.cores: `)),
    ]);
  });

  it.each([
    ["a trailing comma", '{\n  "networks": {},\n}\n', 3, 1, /field name.*trailing comma/],
    ["a missing value", '{\n  "networks": {\n    "family": }\n}\n', 3, 15, /^expected a value/],
    ["a missing colon", '{\n  "networks" {}\n}', 2, 14, /':'/],
    ["an unterminated file", '{\n  "networks": {\n', 3, 1, /expected '}'/],
    ["a raw newline in a string", '{"networks": {"a\nb": 1}}', 1, 15, /line break inside a string/],
    ["text after the object", '{"networks": {}} }', 1, 18, /after the end/],
    ["single quotes", "{\n  'networks': {}\n}", 2, 3, /double quotes/],
    ["a comment left open", '{\n  "networks": {} /* the end\n}', 2, 18, /not closed/],
    ["an error after comments", '// mine\n/* a\n   b */ {\n  "networks": {} // none yet\n  "backups": {}\n}', 5, 3, /','/],
  ])("names line and column of %s", async (_case, text, line, column, reason) => {
    const file = await dir.write("config.json", text);
    const result = await loadConfigFile(file);
    expect(result.ok || result.error).toEqual({
      kind: "syntax",
      file,
      line,
      column,
      reason: expect.stringMatching(reason),
      message: expect.stringMatching(new RegExp(`^${file}:${line}:${column}: invalid JSON: [^\\n]+$`)),
    });
  });

  it("reports an empty file as a syntax error at its start", async () => {
    const file = await dir.write("config.json", "");
    const result = await loadConfigFile(file);
    expect(result.ok || result.error).toMatchObject({ kind: "syntax", line: 1, column: 1 });
  });
});

describe("resolveConfigPath", () => {
  const env = { HOME: "/home/alice", XDG_CONFIG_HOME: "/home/alice/.xdg", CLAN_DESKTOP_CONFIG: "/etc/clan/config.json" };

  it("prefers --config, then CLAN_DESKTOP_CONFIG, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(resolveConfigPath({ cliPath: "/tmp/mine.json", env })).toBe("/tmp/mine.json");
    expect(resolveConfigPath({ env })).toBe("/etc/clan/config.json");
    expect(resolveConfigPath({ env: { ...env, CLAN_DESKTOP_CONFIG: undefined } })).toBe(
      "/home/alice/.xdg/clan-desktop/config.json",
    );
    expect(resolveConfigPath({ env: { HOME: "/home/alice" } })).toBe("/home/alice/.config/clan-desktop/config.json");
  });

  it("treats empty values as unset", () => {
    expect(resolveConfigPath({ cliPath: "", env: { HOME: "/home/alice", CLAN_DESKTOP_CONFIG: "", XDG_CONFIG_HOME: "" } })).toBe(
      "/home/alice/.config/clan-desktop/config.json",
    );
  });

  it("ignores a relative XDG_CONFIG_HOME, as the XDG spec says", () => {
    expect(resolveConfigPath({ env: { HOME: "/home/alice", XDG_CONFIG_HOME: "xdg" } })).toBe(
      "/home/alice/.config/clan-desktop/config.json",
    );
  });

  it("makes relative paths absolute from the current directory", () => {
    expect(resolveConfigPath({ cliPath: "conf/c.json", env: {} })).toBe(`${process.cwd()}/conf/c.json`);
    expect(resolveConfigPath({ env: { CLAN_DESKTOP_CONFIG: "c.json" } })).toBe(`${process.cwd()}/c.json`);
  });

  it("falls back to the account's home directory without HOME", () => {
    expect(resolveConfigPath({ env: {} })).toBe(`${homedir()}/.config/clan-desktop/config.json`);
  });
});
