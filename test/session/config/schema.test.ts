import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/session/config/load.js";
import { ConfigSchema, emptyConfig, NetworkName } from "../../../src/session/config/schema.js";
import { configText, networkInput } from "./fixtures.js";

const FILE = "/home/alice/.config/clan-desktop/config.json";

function problemsOf(text: string) {
  const result = parseConfigText(text, FILE);
  if (result.ok) throw new Error("expected the config to be rejected");
  if (result.error.kind !== "invalid") throw new Error(`expected a validation error, got ${result.error.message}`);
  return result.error;
}

function acceptedWorkspaces(workspaces: string[]) {
  const result = parseConfigText(configText({ family: networkInput({ workspaces }) }), FILE);
  if (!result.ok) throw new Error(result.error.message);
  return result.config.networks.family?.workspaces;
}

describe("config schema", () => {
  it("accepts a complete example and applies defaults", () => {
    const result = parseConfigText(
      configText(
        {
          family: networkInput({ workspaces: ["3:family", "4:family"], colour: "#FF8800" }),
          club: {
            label: "Chess club ♞",
            workspaces: ["club"],
            colour: "#00aa55",
            source: { flake: "git+https://git.example.org/club/infra?ref=main", attribute: "packages.x86_64-linux.vm" },
            vm: { memoryMiB: 2048, cores: 2, display: "waypipe" },
            grants: { shares: [{ path: "/home/u/Chess" }, { path: "/home/u/Sync", readWrite: true }] },
            onLeave: { action: "stop", afterSeconds: 600 },
            stopWhenIdleMinutes: 30,
            updates: { rebuild: true },
          },
        },
        { $schema: "./config.schema.json", switchDebounceMs: 0 },
      ),
      FILE,
    );
    expect(result).toEqual({
      ok: true,
      config: {
        $schema: "./config.schema.json",
        switchDebounceMs: 0,
        updateCheckMinutes: 60,
        join: { allowInputs: [] },
        notifications: true,
        networks: {
          family: {
            label: "family",
            workspaces: ["3:family", "4:family"],
            colour: "#ff8800",
            source: { profile: "/nix/var/nix/profiles/clan/family" },
            vm: {},
            grants: { shares: [] },
            onLeave: { action: "pause" },
            stopWhenIdleMinutes: null,
            updates: { check: true, rebuild: false },
          },
          club: {
            label: "Chess club ♞",
            workspaces: ["club"],
            colour: "#00aa55",
            source: { flake: "git+https://git.example.org/club/infra?ref=main", attribute: "packages.x86_64-linux.vm" },
            vm: { memoryMiB: 2048, cores: 2, display: "waypipe" },
            grants: {
              shares: [
                { path: "/home/u/Chess", readWrite: false },
                { path: "/home/u/Sync", readWrite: true },
              ],
            },
            onLeave: { action: "stop", afterSeconds: 600 },
            stopWhenIdleMinutes: 30,
            updates: { check: true, rebuild: true },
          },
        },
      },
    });
  });

  it("defaults switchDebounceMs to 150, update checks to hourly, notifications on, and has no networks when empty", () => {
    expect(emptyConfig()).toEqual({ networks: {}, switchDebounceMs: 150, updateCheckMinutes: 60, join: { allowInputs: [] }, notifications: true });
  });

  it("join.allowInputs takes ssh, local and unlocked, and nothing else", () => {
    expect(ConfigSchema.parse({ networks: {}, join: { allowInputs: ["ssh", "local"] } }).join.allowInputs).toEqual(["ssh", "local"]);
    expect(ConfigSchema.safeParse({ networks: {}, join: { allowInputs: ["everything"] } }).success).toBe(false);
  });

  it("does not find unconfigured names on the prototype", () => {
    expect(emptyConfig().networks["constructor"]).toBeUndefined();
  });

  it("accepts flake paths and path: references", () => {
    for (const flake of ["/home/alice/clan", "path:/home/alice/clan"]) {
      expect(parseConfigText(configText({ family: networkInput({ source: { flake } }) }), FILE).ok).toBe(true);
    }
  });

  it.each([
    ["colour", { colour: "red" }, "networks.family.colour", /#rrggbb.*"red"/],
    ["colour type", { colour: 3366 }, "networks.family.colour", /expected string/],
    ["label too long", { label: "x".repeat(65) }, "networks.family.label", /at most 64/],
    ["label with newline", { label: "fam\nily" }, "networks.family.label", /control characters/],
    ["empty workspaces", { workspaces: [] }, "networks.family.workspaces", /at least one/],
    ["empty workspace name", { workspaces: [""] }, "networks.family.workspaces[0]", /empty/],
    ["relative profile", { source: { profile: "profiles/family" } }, "networks.family.source.profile", /absolute path/],
    ["ssh flake", { source: { flake: "git+ssh://host/repo" } }, "networks.family.source.flake", /git\+https/],
    ["flake with #", { source: { flake: "path:/x#vm" } }, "networks.family.source.flake", /"attribute"/],
    ["bad attribute", { source: { flake: "/x", attribute: "a b" } }, "networks.family.source.attribute", /attribute path/],
    ["profile and flake", { source: { profile: "/p", flake: "/f" } }, "networks.family.source", /"profile".*or.*"flake"/],
    ["no source", { source: undefined }, "networks.family.source", /required/],
    ["memory too small", { vm: { memoryMiB: 32 } }, "networks.family.vm.memoryMiB", /64/],
    ["fractional cores", { vm: { cores: 1.5 } }, "networks.family.vm.cores", /int/],
    ["too many cores", { vm: { cores: 65 } }, "networks.family.vm.cores", /64/],
    ["unknown display", { vm: { display: "vnc" } }, "networks.family.vm.display", /none.*spice.*waypipe/],
    ["relative grant", { grants: { shares: [{ path: "Sync" }] } }, "networks.family.grants.shares[0].path", /absolute path/],
    ["grant with ..", { grants: { shares: [{ path: "/home/u/Sync/../.ssh" }] } }, "networks.family.grants.shares[0].path", /normalised.*"\/home\/u\/\.ssh"/],
    ["grant with unknown field", { grants: { shares: [{ path: "/srv", rw: true }] } }, "networks.family.grants.shares[0].rw", /unknown field/],
    ["onLeave as string", { onLeave: "pause" }, "networks.family.onLeave", /\{"action": "pause"\}/],
    ["unknown action", { onLeave: { action: "hibernate" } }, "networks.family.onLeave.action", /keep.*pause.*stop/],
    ["stop without delay", { onLeave: { action: "stop" } }, "networks.family.onLeave.afterSeconds", /required/],
    ["negative delay", { onLeave: { action: "stop", afterSeconds: -1 } }, "networks.family.onLeave.afterSeconds", />=0/],
    ["idle zero", { stopWhenIdleMinutes: 0 }, "networks.family.stopWhenIdleMinutes", />=1/],
  ])("rejects %s, naming file and field", (_case, overrides, path, reason) => {
    const error = problemsOf(configText({ family: networkInput(overrides) }));
    expect(error.file).toBe(FILE);
    expect(error.problems).toEqual([{ path, reason: expect.stringMatching(reason) }]);
    expect(error.message).toContain(`${FILE}: ${path}: `);
  });

  it("quotes a rejected value with its control characters escaped and its length cut", () => {
    const error = problemsOf(configText({ family: networkInput({ colour: `\u202Ered\u0085${"x".repeat(100)}` }) }));
    expect(error.message).toContain('got "\\u202ered\\u0085xxx');
    expect(error.message).toMatch(/x…"$/);
    expect(error.message).not.toMatch(/[\u202E\u0085]/);
  });

  it("rejects switchDebounceMs out of range", () => {
    const error = problemsOf(configText({}, { switchDebounceMs: 5001 }));
    expect(error.problems).toEqual([{ path: "switchDebounceMs", reason: expect.stringMatching(/5000/) }]);
  });

  it("rejects a file without networks and a file that is not an object", () => {
    expect(problemsOf("{}").problems).toEqual([{ path: "networks", reason: "required field is missing" }]);
    expect(problemsOf("[]").problems).toEqual([{ path: "", reason: expect.stringMatching(/expected object/) }]);
    expect(problemsOf("[]").message).toBe(`${FILE}: (top level): Invalid input: expected object, received array`);
  });

  it("rejects unknown fields at every level, one problem per field", () => {
    const error = problemsOf(
      configText(
        { family: networkInput({ colr: "#ffffff", vm: { memory: 1 }, onLeave: { action: "keep", after: 1 } }) },
        { debounce: 1 },
      ),
    );
    expect(error.problems).toEqual(
      expect.arrayContaining([
        { path: "debounce", reason: "unknown field" },
        { path: "networks.family.colr", reason: "unknown field" },
        { path: "networks.family.vm.memory", reason: "unknown field" },
        { path: "networks.family.onLeave.after", reason: "unknown field" },
      ]),
    );
    expect(error.problems).toHaveLength(4);
  });

  it.each(["Family", "1family", "fam ily", "-family", "fam_ily", "a".repeat(32), "", "famïly"])(
    "rejects the network name %j, naming it",
    (name) => {
      const error = problemsOf(configText({ [name]: networkInput() }));
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]?.reason).toContain(`invalid network name ${JSON.stringify(name.slice(0, 48))}`);
    },
  );

  it("rejects a __proto__ key, which zod would drop without a word", () => {
    const text = '{"networks": {"__proto__": {"workspaces": ["1"], "colour": "#000000", "source": {"profile": "/p"}}}}';
    expect(problemsOf(text).problems).toEqual([{ path: "networks.__proto__", reason: 'invalid network name "__proto__"' }]);
    const elsewhere = '{"networks": {}, "__proto__": {}}';
    expect(problemsOf(elsewhere).problems).toEqual([{ path: "__proto__", reason: "unknown field" }]);
  });

  it("exports NetworkName for other entry points", () => {
    expect(NetworkName.safeParse("family-2").success).toBe(true);
    expect(NetworkName.safeParse("a".repeat(31)).success).toBe(true);
    expect(NetworkName.safeParse("Family").success).toBe(false);
  });

  it("rejects a workspace claimed by two networks, naming both", () => {
    const error = problemsOf(
      configText({ family: networkInput({ workspaces: ["1", "3:shared"] }), club: networkInput({ workspaces: ["3:shared"] }) }),
    );
    expect(error.problems).toEqual([
      { path: "networks.club.workspaces[0]", reason: 'workspace "3:shared" of network "club" already belongs to network "family"' },
    ]);
  });

  it("rejects a workspace listed twice in one network", () => {
    const error = problemsOf(configText({ family: networkInput({ workspaces: ["1", "1"] }) }));
    expect(error.problems).toEqual([{ path: "networks.family.workspaces[1]", reason: 'workspace "1" is listed twice in network "family"' }]);
  });

  it("takes hostile but printable workspace names as data", () => {
    const names = [
      '3:"family"',
      "rm -rf /; echo",
      "[con_mark=x] kill",
      "a,b",
      "`id` & (whoami)",
      "{}\\'",
      "家族 👨‍👩‍👧 café",
      "x".repeat(128),
    ];
    expect(acceptedWorkspaces(names)).toEqual(names);
  });

  it.each([
    ["newline", "3:fam\nily"],
    ["carriage return", "fam\rily"],
    ["tab", "fam\tily"],
    ["NUL", "fam\u0000ily"],
    ["escape", "\u001b[31mred"],
    ["DEL", "fam\u007fily"],
    ["C1 control", "fam\u0085ily"],
    ["line separator", "fam\u2028ily"],
    ["right-to-left override", "\u202Eylimaf"],
    ["lone surrogate", "fam\ud800ily"],
  ])("rejects a workspace name with a %s", (_case, name) => {
    const error = problemsOf(configText({ family: networkInput({ workspaces: ["ok", name] }) }));
    expect(error.problems).toEqual([{ path: "networks.family.workspaces[1]", reason: expect.stringMatching(/control characters/) }]);
    expect(error.message).not.toContain(name);
  });

  it.each([
    ["a dollar sign", "$(whoami)", /sway expands '\$'/],
    ["both quote kinds", `it's "ours"`, /both ' and "/],
    ["a trailing backslash", "work\\", /final backslash/],
    ["a keyword", "next", /keyword/],
    ["an internal name", "__i3_scratch", /internal workspace/],
  ])("rejects a workspace name with %s, which a window manager command cannot name exactly", (_case, name, reason) => {
    const error = problemsOf(configText({ family: networkInput({ workspaces: [name] }) }));
    expect(error.problems).toEqual([{ path: "networks.family.workspaces[0]", reason: expect.stringMatching(reason) }]);
  });

  it("rejects two networks whose workspaces differ only in case, which sway and i3 treat as one", () => {
    const error = problemsOf(
      configText({ a: networkInput({ workspaces: ["Work"] }), b: networkInput({ workspaces: ["work"], colour: "#00ff00" }) }),
    );
    expect(error.problems).toEqual([
      { path: "networks.b.workspaces[0]", reason: 'workspace "work" of network "b" already belongs to network "a" (sway and i3 ignore case: it is the same workspace as "Work")' },
    ]);
  });

  it("rejects a 10k-character workspace name without echoing it", () => {
    const error = problemsOf(configText({ family: networkInput({ workspaces: ["x".repeat(10_000)] }) }));
    expect(error.problems).toEqual([{ path: "networks.family.workspaces[0]", reason: "must be at most 128 characters" }]);
    expect(error.message.length).toBeLessThan(200);
  });

  it("parses the same way through the exported schema", () => {
    expect(ConfigSchema.safeParse({ networks: { family: networkInput() } }).success).toBe(true);
  });
});
