import { mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApplicationsService } from "../../../src/session/applications/applications-service.js";
import { ConfigWatcher } from "../../../src/session/config/watcher.js";
import { checkNetworkConfigs } from "../../../src/shared/network-spec.js";
import { configText, makeTempDir, networkInput, type TempDir } from "../config/fixtures.js";

// clan-sessiond's Applications and Settings methods on real files: the user's config.json, the networks directory
// and the real nix/templates/network. The attacker here is whatever else wrote into those places: a symlink
// instead of configs.json or instead of a network's directory, a huge or invalid file, a stale save.

const TEMPLATE = fileURLToPath(new URL("../../../nix/templates/network", import.meta.url));

let dir: TempDir;
let config: ConfigWatcher;
let service: ApplicationsService;
let networksDir: string;

async function startWith(networks: Record<string, unknown>, extraText = ""): Promise<void> {
  const text = configText(networks).replace('{\n  "networks"', `{\n  // the user's own comment\n  "networks"`) + extraText;
  await dir.write("config.json", text);
  config = new ConfigWatcher(dir.file("config.json"));
  const loaded = await config.reload();
  expect(loaded.ok).toBe(true);
  service = new ApplicationsService({ config, networksDir, templateDir: TEMPLATE, profileOf: (network) => join(dir.path, "profiles", network) });
}

beforeEach(async () => {
  dir = await makeTempDir();
  networksDir = join(dir.path, "networks");
});

afterEach(async () => {
  await config?.close();
  await dir.remove();
});

describe("New network", () => {
  it("makes the user's own flake from nix/templates/network and registers it in config.json, comments kept", async () => {
    await startWith({});
    const directory = await service.createNetwork({ name: "garden", label: "Garden club", colour: "#98c379", workspace: "5:garden" });
    expect(directory).toBe(join(networksDir, "garden"));
    expect(await readFile(join(directory, "flake.nix"), "utf8")).toBe(await readFile(join(TEMPLATE, "flake.nix"), "utf8"));
    const configs = JSON.parse(await readFile(join(directory, "configs.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(configs)).toEqual(["garden"]);
    expect(checkNetworkConfigs(configs).ok).toBe(true);
    const text = await readFile(dir.file("config.json"), "utf8");
    expect(text).toContain("// the user's own comment");
    expect(config.current.networks.garden).toMatchObject({
      label: "Garden club",
      workspaces: ["5:garden"],
      source: { flake: `path:${directory}`, attribute: expect.stringMatching(/^packages\.[a-z0-9_]+-linux\.garden$/) },
    });
    const read = await service.applications("garden");
    expect(read).toMatchObject({ editable: true, entry: "garden", reason: "", path: join(directory, "configs.json") });
  });

  it("refuses a bad name or colour naming the field, and leaves no directory behind", async () => {
    await startWith({});
    await expect(service.createNetwork({ name: "Bad Name", label: "", colour: "#98c379", workspace: "5:x" })).rejects.toThrow(/^name: /);
    await expect(service.createNetwork({ name: "garden", label: "", colour: "green", workspace: "5:x" })).rejects.toThrow(/networks\.garden\.colour: must be a colour/);
    await expect(stat(join(networksDir, "garden"))).rejects.toThrow(/ENOENT/);
    expect(config.current.networks).toEqual({});
  });
});

describe("a network's configs.json", () => {
  beforeEach(async () => {
    await startWith({});
    await service.createNetwork({ name: "garden", label: "Garden", colour: "#98c379", workspace: "5:garden" });
  });

  it("is written over the revision read, with the diff of what changed; a stale save is refused", async () => {
    const read = await service.applications("garden");
    const configs = JSON.parse(read.configs) as { garden: { applications: { syncthing: { enable: boolean } } } };
    configs.garden.applications.syncthing.enable = false;
    const text = `${JSON.stringify(configs, null, 2)}\n`;
    const written = await service.setApplications("garden", text, read.revision);
    expect(written.diff).toEqual(["~ garden.applications.syncthing.enable: true → false"]);
    expect(await readFile(read.path, "utf8")).toBe(text);
    expect((await service.applications("garden")).revision).toBe(written.revision);
    await expect(service.setApplications("garden", read.configs, read.revision)).rejects.toThrow(/changed since it was read/);
    expect(await readFile(read.path, "utf8")).toBe(text);
  });

  it("refuses what nix/lib would refuse, naming the entry and the field, and writes nothing", async () => {
    const read = await service.applications("garden");
    const configs = JSON.parse(read.configs) as { garden: Record<string, unknown> };
    configs.garden["networkLayer"] = "<b>tor</b>";
    await expect(service.setApplications("garden", JSON.stringify(configs), read.revision)).rejects.toThrow(
      /entry "garden", field "networkLayer": must be one of "yggdrasil", "wireguard", "zerotier", "none"/,
    );
    await expect(service.setApplications("garden", "{ not json", read.revision)).rejects.toThrow(/not JSON/);
    expect(await readFile(read.path, "utf8")).toBe(read.configs);
  });

  it("refuses a symlink in place of configs.json and an oversized file", async () => {
    const path = join(networksDir, "garden", "configs.json");
    await writeFile(path, `{"garden": {"system": "x86_64-linux", "adminMode": "${"a".repeat(300 * 1024)}"}}`);
    await expect(service.applications("garden")).rejects.toThrow(/more than the 262144 a configs\.json may have/);
    await writeFile(dir.file("secret"), "the user's secret");
    await rm(path);
    await symlink(dir.file("secret"), path);
    await expect(service.applications("garden")).rejects.toThrow(/is a symlink/);
    await expect(service.setApplications("garden", '{"garden": {"system": "x86_64-linux"}}', "")).rejects.toThrow(/is a symlink/);
    expect(await readFile(dir.file("secret"), "utf8")).toBe("the user's secret");
  });
});

describe("networks whose configs.json is not the user's to edit here", () => {
  it("a joined network (a remote flake), a profile and a local flake elsewhere are read-only, and a write is refused", async () => {
    const elsewhere = join(dir.path, "elsewhere");
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, "configs.json"), "{}");
    await startWith({
      joined: networkInput({ workspaces: ["1:j"], source: { flake: "git+https://git.example.org/club/infra", attribute: "packages.x86_64-linux.joined" } }),
      profiled: networkInput({ workspaces: ["2:p"] }),
      local: networkInput({ workspaces: ["3:l"], source: { flake: `path:${elsewhere}` } }),
    });
    for (const name of ["joined", "profiled", "local"]) {
      const read = await service.applications(name);
      expect(read).toMatchObject({ editable: false, configs: "", revision: "" });
      expect(read.reason).toMatch(name === "profiled" ? /boots the Nix profile/ : /has no generation yet, so no configs\.json was built to show$/);
      await expect(service.setApplications(name, "{}", "")).rejects.toThrow(/^configs\.json not saved: /);
    }
    expect(await readFile(join(elsewhere, "configs.json"), "utf8")).toBe("{}");
  });

  it("a network directory that is a symlink to elsewhere is read-only", async () => {
    const elsewhere = join(dir.path, "elsewhere");
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, "configs.json"), "{}");
    await mkdir(networksDir);
    await symlink(elsewhere, join(networksDir, "linked"));
    await startWith({ linked: networkInput({ workspaces: ["1:l"], source: { flake: `path:${join(networksDir, "linked")}` } }) });
    const read = await service.applications("linked");
    expect(read).toMatchObject({ editable: false });
    expect(read.reason).toMatch(/symlink/);
    await expect(service.setApplications("linked", '{"linked": {"system": "x86_64-linux"}}', "")).rejects.toThrow(/not saved/);
    expect(await readFile(join(elsewhere, "configs.json"), "utf8")).toBe("{}");
  });
});

describe("settings in config.json", () => {
  it("writes a network's update policy and notifications, keeps the user's comments, and applies them at once", async () => {
    await startWith({ family: networkInput() });
    expect(service.updatePolicy("family")).toEqual({ check: true, rebuild: false });
    await service.setUpdatePolicy("family", { check: false, rebuild: true });
    await service.setNotifications(false);
    expect(config.current.networks.family?.updates).toEqual({ check: false, rebuild: true });
    expect(service.notifications).toBe(false);
    const text = await readFile(dir.file("config.json"), "utf8");
    expect(text).toContain("// the user's own comment");
    expect(JSON.parse(text.replace(/\/\/.*\n/, "\n"))).toMatchObject({ notifications: false, networks: { family: { updates: { check: false, rebuild: true } } } });
    await expect(service.setUpdatePolicy("nobody", { check: true, rebuild: true })).rejects.toThrow(/no network named nobody/);
  });

  it("does not touch a config.json that already has a problem", async () => {
    await startWith({ family: networkInput() });
    await writeFile(dir.file("config.json"), '{"networks": {}, "switchDebounceMs": -1}');
    await expect(service.setNotifications(false)).rejects.toThrow(/fix .* first/);
    expect(await readFile(dir.file("config.json"), "utf8")).toBe('{"networks": {}, "switchDebounceMs": -1}');
  });
});
