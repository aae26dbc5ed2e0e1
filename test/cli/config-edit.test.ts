import { lstat, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addNetworkToConfig, freeColour, freeNetworkName, freeWorkspace, readConfigForEdit } from "../../src/cli/config-edit.js";
import { ConfigSchema } from "../../src/session/config/schema.js";

// `clanctl join` edits the user's config.json: other content stays, the result is valid, and the file is
// replaced in one rename.

const config = (networks: Record<string, { workspaces: string[]; colour: string }>) =>
  ConfigSchema.parse({
    networks: Object.fromEntries(Object.entries(networks).map(([name, n]) => [name, { ...n, source: { profile: `/p/${name}` } }])),
  });

describe("free workspace, colour and name", () => {
  it("takes the smallest number no network uses", () => {
    const taken = config({ a: { workspaces: ["1:a", "2"], colour: "#e06c75" }, b: { workspaces: ["4:b", "web"], colour: "#56B6C2" } });
    expect(freeWorkspace(taken, "club")).toBe("3:club");
    expect(freeWorkspace(config({}), "club")).toBe("1:club");
  });

  it("takes a colour no other network has, whatever its case", () => {
    const taken = config({ a: { workspaces: ["1:a"], colour: "#e06c75" }, b: { workspaces: ["2:b"], colour: "#56B6C2" } });
    expect(freeColour(taken)).toBe("#98c379");
  });

  it("derives an identifier from the source's last path part, unique in the config", () => {
    expect(freeNetworkName(config({}), "git+https://example.org/org/Chess_Club.git")).toBe("chess-club");
    expect(freeNetworkName(config({}), "git+file:///tmp/clan-flake-AbC12")).toBe("clan-flake-abc12");
    expect(freeNetworkName(config({}), "path:/srv/2024")).toBe("net-2024");
    expect(freeNetworkName(config({ infra: { workspaces: ["1:i"], colour: "#000000" } }), "git+https://e.org/infra")).toBe("infra-2");
  });
});

describe("adding a network to config.json", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-config-edit-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const entry = { workspaces: ["3:club"], colour: "#98c379", source: { flake: "git+https://example.org/club", attribute: "packages.x86_64-linux.default" } };

  it("keeps other fields and the file's indentation, and the result loads", async () => {
    const file = join(dir, "config.json");
    await writeFile(file, '{\n\t"$schema": "./config.schema.json",\n\t"switchDebounceMs": 300,\n\t"networks": {}\n}\n', { mode: 0o640 });
    await addNetworkToConfig(file, await readConfigForEdit(file), "club", entry);
    const text = await readFile(file, "utf8");
    expect(text).toContain('\n\t"switchDebounceMs": 300');
    const state = await readConfigForEdit(file);
    expect(state.config.switchDebounceMs).toBe(300);
    expect(state.config.networks.club).toMatchObject({ workspaces: ["3:club"], source: entry.source });
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it("keeps the user's comments, order, odd spacing and line ends, and only adds the network", async () => {
    const file = join(dir, "config.json");
    const original = [
      "\uFEFF// My desktop. Keep the family first!",
      "{",
      '   "switchDebounceMs" :300 ,   /* tuned by hand */',
      '   "networks":{',
      "      // the family's network",
      '      "family" : { "workspaces":["1:family"], "colour":"#e06c75",',
      '                   "source": {"profile": "/p/family"} }  // stays on one line',
      "   },",
      "   /* backups later */",
      '   "$schema": "./config.schema.json"',
      "}",
      "// the end",
      "",
    ].join("\r\n");
    await writeFile(file, original);
    await addNetworkToConfig(file, await readConfigForEdit(file), "club", entry);
    const club = [
      '      "club": {',
      '         "workspaces": [',
      '            "3:club"',
      "         ],",
      '         "colour": "#98c379",',
      '         "source": {',
      '            "flake": "git+https://example.org/club",',
      '            "attribute": "packages.x86_64-linux.default"',
      "         }",
      "      }",
    ];
    const expected = original
      .replace("} }  // stays on one line\r\n", `} },  // stays on one line\r\n${club.join("\r\n")}\r\n`);
    expect(await readFile(file, "utf8")).toBe(expected);
    const state = await readConfigForEdit(file);
    expect(Object.keys(state.config.networks)).toEqual(["family", "club"]);
    expect(state.config.switchDebounceMs).toBe(300);
    expect(state.config.networks.club).toMatchObject({ workspaces: ["3:club"], colour: "#98c379", source: entry.source });
  });

  it("puts the first network inside an empty networks object, indented like the file", async () => {
    const file = join(dir, "config.json");
    await writeFile(file, '{\n    "networks": {\n    }, // none yet\n    "switchDebounceMs": 1\n}\n');
    await addNetworkToConfig(file, await readConfigForEdit(file), "club", { workspaces: ["3:club"], colour: "#98c379", source: { profile: "/p/club" } });
    expect(await readFile(file, "utf8")).toBe(
      '{\n    "networks": {\n        "club": {\n            "workspaces": [\n                "3:club"\n            ],\n' +
        '            "colour": "#98c379",\n            "source": {\n                "profile": "/p/club"\n            }\n        }\n    }, // none yet\n' +
        '    "switchDebounceMs": 1\n}\n',
    );
  });

  it("creates a missing file", async () => {
    const file = join(dir, "sub", "config.json");
    await addNetworkToConfig(file, await readConfigForEdit(file), "club", entry);
    expect(Object.keys((await readConfigForEdit(file)).config.networks)).toEqual(["club"]);
  });

  it("writes through a symlink and leaves it a symlink", async () => {
    const real = join(dir, "real.json");
    const link = join(dir, "config.json");
    await writeFile(real, '{"networks": {}}');
    await symlink(real, link);
    await addNetworkToConfig(link, await readConfigForEdit(link), "club", entry);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    expect(await readFile(real, "utf8")).toContain('"club"');
  });

  it("refuses to edit an invalid config, and an entry that would make it invalid", async () => {
    const file = join(dir, "config.json");
    await writeFile(file, '{"networks": {}, "colr": 1}');
    await expect(readConfigForEdit(file)).rejects.toThrow(/fix .* before joining a network.*colr: unknown field/s);
    await writeFile(file, '{"networks": {"a": {"workspaces": ["3:club"], "colour": "#000000", "source": {"profile": "/p"}}}}');
    await expect(addNetworkToConfig(file, await readConfigForEdit(file), "club", entry)).rejects.toThrow(/already belongs to network "a"/);
    await expect(addNetworkToConfig(file, await readConfigForEdit(file), "a", entry)).rejects.toThrow(/already has a network named a/);
    expect(Object.keys((await readConfigForEdit(file)).config.networks)).toEqual(["a"]);
  });
});
