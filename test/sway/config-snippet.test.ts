import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clanctlCommand } from "../../src/cli/wm-config-command.js";
import { UnsafeCommandArgumentError } from "../../src/sway/command-syntax.js";
import { commentText, execCommand, shellWord, statusCommand } from "../../src/sway/config-file-syntax.js";
import { configSnippet, modeName, type SnippetOptions } from "../../src/sway/config-snippet.js";

const HOSTILE_WORKSPACE = `4:club "x"; exec touch /tmp/clan-pwned, [b]`;
const NODE_AND_SCRIPT = ["/usr/bin/node", "/opt/clan desktop/bin/clanctl.js"];

function snippet(overrides: Partial<SnippetOptions> = {}): string {
  return configSnippet({
    dialect: "sway",
    networks: [
      { name: "family", label: `Fam "ily"]; exec x`, workspaces: ["3:family", "4:photos"] },
      { name: "club", label: "club", workspaces: [HOSTILE_WORKSPACE] },
    ],
    clanctl: NODE_AND_SCRIPT,
    barRelay: ["/opt/clan desktop/bin/clan-bar-relay"],
    withBar: false,
    configFile: "/home/alice/.config/clan-desktop/config.json",
    ...overrides,
  });
}

/** The lines that are not comments or blank: what the window manager reads. */
const activeLines = (text: string) => text.split("\n").filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));

describe("clanctl sway-config / i3-config", () => {
  it("sets a Pango font for sway, binds the actions in a mode entered with $mod+n, and a digit per network, all --inhibited", () => {
    const mode = modeName(2);
    expect(mode).toBe("clan: r rebuild, p previous generation, b back up, s stop, 1-2 network, Esc leave");
    expect(activeLines(snippet())).toEqual([
      "font pango:monospace 10",
      `mode "${mode}" {`,
      "    bindsym --inhibited r exec /usr/bin/node '/opt/clan desktop/bin/clanctl.js' rebuild; mode default",
      "    bindsym --inhibited p exec /usr/bin/node '/opt/clan desktop/bin/clanctl.js' rollback; mode default",
      "    bindsym --inhibited b exec /usr/bin/node '/opt/clan desktop/bin/clanctl.js' backup; mode default",
      "    bindsym --inhibited s exec /usr/bin/node '/opt/clan desktop/bin/clanctl.js' stop; mode default",
      '    bindsym --inhibited 1 workspace --no-auto-back-and-forth "3:family"; mode default',
      `    bindsym --inhibited 2 workspace --no-auto-back-and-forth '${HOSTILE_WORKSPACE}'; mode default`,
      "    bindsym --inhibited Escape mode default",
      "    bindsym --inhibited Return mode default",
      "}",
      `bindsym --inhibited $mod+n mode "${mode}"`,
    ]);
  });

  it("quotes for i3's dialect, and sets the Pango font that the title prefix and the bar's markup need", () => {
    const lines = activeLines(snippet({ dialect: "i3", withBar: true }));
    expect(lines[0]).toBe("font pango:monospace 8");
    expect(lines).toContain(`    bindsym r exec "/usr/bin/node '/opt/clan desktop/bin/clanctl.js' rebuild"; mode default`);
    // i3 unescapes \" when it reads the file, so the command's own \" is escaped once more.
    expect(lines).toContain(`    bindsym 2 workspace --no-auto-back-and-forth "4:club \\\\"x\\\\"; exec touch /tmp/clan-pwned, [b]"; mode default`);
    expect(lines.slice(-5)).toEqual([
      "bar {",
      "    position top",
      `    status_command "'/opt/clan desktop/bin/clan-bar-relay' i3bar"`,
      "    font pango:monospace 8",
      "}",
    ]);
  });

  it("offers the bar as a commented example unless asked for a whole bar", () => {
    const text = snippet();
    expect(text).toContain(`# bar {\n#     position top\n#     status_command "'/opt/clan desktop/bin/clan-bar-relay' i3bar"\n# }`);
    expect(activeLines(snippet({ withBar: true })).slice(-4)).toEqual([
      "bar {",
      "    position top",
      `    status_command "'/opt/clan desktop/bin/clan-bar-relay' i3bar"`,
      "}",
    ]);
  });

  it("leaves out, with the reason in a comment, a network whose workspace cannot be written into a config", () => {
    const text = snippet({
      networks: [
        { name: "money", label: "Money", workspaces: ["5:$money"] },
        { name: "next", label: "Next", workspaces: ["next"] },
      ],
    });
    expect(text).toContain(`    # money ("Money"): no key, its workspace cannot be written into a config file:`);
    expect(text).toContain("a config file would expand '$' as a variable");
    expect(text).toContain(`    # next ("Next"): no key, its workspace cannot be written into a config file:`);
    expect(activeLines(text).filter((line) => /bindsym \d/.test(line))).toEqual([]);
  });

  it("escapes a binding's command once more for what each window manager unescapes when reading the file", () => {
    // sway unescapes every backslash (as a C escape): each is doubled.
    const sway = snippet({ networks: [{ name: "club", label: "club", workspaces: ["3:a\\b"] }] });
    expect(activeLines(sway)).toContain('    bindsym --inhibited 1 workspace --no-auto-back-and-forth "3:a\\\\b"; mode default');
    // i3 unescapes only \" in the file, and \" and \\ at run time: the name a\b x\"y is "a\\b x\\\"y" at run
    // time, and its \" needs one more backslash in the file.
    const i3 = snippet({ dialect: "i3", networks: [{ name: "club", label: "club", workspaces: ['3:a\\b x\\"y'] }] });
    expect(activeLines(i3)).toContain('    bindsym 1 workspace --no-auto-back-and-forth "3:a\\\\b x\\\\\\\\"y"; mode default');
  });

  it("keeps a hostile label on its comment line", () => {
    const text = snippet({ networks: [{ name: "evil", label: "x\ny\u2028z\u202e", workspaces: ["9"] }] });
    expect(text).toContain(`    # evil ("x\\ny\\u2028z\\u202e")\n    bindsym --inhibited 1 workspace`);
    expect(commentText("a\u0000b")).toBe('"a\\u0000b"');
  });

  it("gives the 11th network and later no key", () => {
    const networks = Array.from({ length: 11 }, (_, i) => ({ name: `n${i}`, label: `N${i}`, workspaces: [`${i + 1}`] }));
    const text = snippet({ networks });
    expect(text).toContain('    bindsym --inhibited 0 workspace --no-auto-back-and-forth "10"; mode default');
    expect(text).toContain('    # n10 ("N10"): no key left; use its workspace "11"');
    expect(modeName(11)).toContain("1-0 network");
  });

  it("says when config.json could not be read", () => {
    expect(snippet({ networks: [], configProblem: "…/config.json: missing" })).toContain(
      '# config.json could not be read, so no network has a key here: "…/config.json: missing"',
    );
    expect(modeName(0)).toBe("clan: r rebuild, p previous generation, b back up, s stop, Esc leave");
  });
});

describe("commands in a config file", () => {
  it("writes plain words as they are and others in single quotes", () => {
    expect(shellWord("/usr/bin/node")).toBe("/usr/bin/node");
    expect(shellWord("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus")).toBe("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus");
    expect(shellWord("/opt/a b;c,d")).toBe("'/opt/a b;c,d'");
    expect(execCommand(["clanctl", "rebuild"], "sway")).toBe("exec clanctl rebuild");
    expect(execCommand(["clanctl", "rebuild"], "i3")).toBe('exec "clanctl rebuild"');
    expect(statusCommand(["clanctl", "bar"], "sway")).toBe('"clanctl bar"');
  });

  it("refuses words with quotes, backslashes, '$' or control characters", () => {
    for (const word of [`a'b`, `a"b`, "a\\b", "$HOME/x", "a\nb", ""]) {
      expect(() => shellWord(word), word).toThrow(UnsafeCommandArgumentError);
    }
  });
});

describe("how the window manager runs clanctl", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-clanctl-path-"));
    await mkdir(join(dir, "lib", "bin"), { recursive: true });
    await mkdir(join(dir, "path-with-it"));
    await mkdir(join(dir, "path-with-other"));
    await writeFile(join(dir, "lib", "bin", "clanctl.js"), "");
    await writeFile(join(dir, "path-with-other", "clanctl"), "");
    await chmod(join(dir, "lib", "bin", "clanctl.js"), 0o755);
    await symlink(join(dir, "lib", "bin", "clanctl.js"), join(dir, "path-with-it", "clanctl"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is plain clanctl when that name on PATH is this program", async () => {
    expect(await clanctlCommand(join(dir, "lib", "bin", "clanctl.js"), `/nonexistent:${join(dir, "path-with-it")}`)).toEqual(["clanctl"]);
  });

  it("is this node and this script otherwise", async () => {
    const script = join(dir, "lib", "bin", "clanctl.js");
    expect(await clanctlCommand(script, join(dir, "path-with-other"))).toEqual([process.execPath, script]);
    expect(await clanctlCommand(undefined, "")).toEqual(["clanctl"]);
  });
});
