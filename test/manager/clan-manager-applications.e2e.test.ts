import { access, cp, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { execa } from "execa";
import { below, findAll, type AccessibleNode } from "../helpers/accessibility.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { TEST_NIX_CONFIG } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { swayScreenshot } from "../helpers/screenshot.js";
import { testGuestPaths } from "../helpers/test-guest.js";
import type { HeadlessSway } from "../helpers/sway.js";
import type { UserSession } from "../helpers/user-session.js";
import { isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack, newNetworkEntry } from "./manager-stack.js";

// The Applications page and New network end to end: the window as the desktop user under headless sway, read
// through AT-SPI and driven by sway's pointer and keyboard; clan-vmd and clan-sessiond as root on the user's bus.
// The attacker wrote configs.json of two networks in the user's networks directory: markup and a bidi override in
// the entry's name with 20 000 nested lists, and a file larger than any real one; both are shown as plain text and
// refused with their reason. New network is typed in and made from nix/templates/network, a bad colour refused by
// its field. Syncthing is toggled off on the network "home" (whose flake builds through the real nix/lib) and saved,
// Tab brings each widget into the window's view (the ScrolledWindow
// follows the focus) and the pointer clicks it (GTK 4.8's check boxes offer no AT-SPI action); Space and Enter are
// clan-manager-keyboard.e2e.test.ts's.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "wtype", "grim", "qemu-system-x86_64", "dbus-daemon", "setpriv", "nix", "nix-env", "busctl", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root for the Nix store)");
const OUTPUT = join(REPO, "test-output", "manager");
const RUN = `${Date.now().toString(36)}-${process.pid}`;

/** A network flake as New network makes it, but buildable here (no nixpkgs): the real nix/lib checks configs.json. */
const FLAKE = `{
  outputs = { self }:
    let
      lib = import ./lib;
      entry = (lib.validateNetworkConfigs (builtins.fromJSON (builtins.readFile ./configs.json))).home;
      syncthing = if entry.applications.syncthing.enable then "on" else "off";
    in {
      packages.x86_64-linux.home = builtins.derivation {
        name = "clan-network-generation";
        system = "x86_64-linux";
        builder = "/bin/busybox";
        args = [ "sh" "-c" ''
          mkdir $out
          cp \${./kernel} $out/kernel
          cp \${./initrd} $out/initrd
          echo "console=ttyS0 panic=-1 quiet clan.generation=syncthing-\${syncthing}" > $out/kernel-params
          echo '{"memoryMiB": 256, "stateDiskMiB": 0, "readyTimeoutSeconds": 60}' > $out/vm.json
          echo "built home ${RUN} with syncthing \${syncthing}"
        '' ];
      };
    };
}
`;

const CONFIGS = {
  home: { system: "x86_64-linux", networkLayer: "yggdrasil", applications: { syncthing: { enable: true, sharedFolders: ["/shared/docs"] } } },
};

const SYNCTHING_ENABLE = "Applications › Syncthing › Enable";

const HOSTILE_CONFIGS = `{"<b>bold</b>\u202e": {"system": "x86_64-linux", "applications": ${"[".repeat(20_000)}${"]".repeat(20_000)}}}`;

describe.skipIf(skip !== "")(`clan-manager's Applications form and Settings, through AT-SPI under sway${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let dataHome: string;
  let networksDir: string;

  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));
  const labels = (root: AccessibleNode) => findAll(root, (node) => node.role === "label").map((found) => found.node.name);
  const config = (): ConfigInput => ({
    networks: {
      home: { label: "Home", workspaces: ["2:home"], colour: "#98c379", source: { flake: `path:${join(networksDir, "home")}`, attribute: "packages.x86_64-linux.home" } },
      hostile: { label: "Hostile", workspaces: ["3:hostile"], colour: "#e06c75", source: { flake: `path:${join(networksDir, "hostile")}` } },
      huge: { label: "Huge", workspaces: ["4:huge"], colour: "#56b6c2", source: { flake: `path:${join(networksDir, "huge")}` } },
    },
  });
  /** Home's detail shown and the keyboard focus in it (on its VM state row), from where Tab goes down the page. */
  const focusHomeDetail = async () => {
    await select("Home");
    await screen.clickOn(await screen.waitFor("Home's VM state row", (root) => (labels(root).includes("home") ? findAll(root, isListItem("VM state"))[0] : undefined), 60_000));
  };
  const select = async (label: string) => screen.clickOn(await screen.waitFor(`${label} in the list`, (root) => findAll(root, isListItem(label))[0], 60_000));

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dataHome = await mkdtemp(`/tmp/clan-managerapps-${process.pid}-`);
    networksDir = join(dataHome, "clan-desktop", "networks");
    const home = join(networksDir, "home");
    await mkdir(home, { recursive: true });
    const { kernel, initrd } = testGuestPaths();
    await copyFile(kernel, join(home, "kernel"));
    await copyFile(initrd, join(home, "initrd"));
    await cp(join(REPO, "nix", "lib"), join(home, "lib"), { recursive: true });
    await writeFile(join(home, "flake.nix"), FLAKE);
    await writeFile(join(home, "configs.json"), `${JSON.stringify(CONFIGS, null, 2)}\n`);
    await mkdir(join(networksDir, "hostile"));
    await writeFile(join(networksDir, "hostile", "configs.json"), HOSTILE_CONFIGS);
    await mkdir(join(networksDir, "huge"));
    await writeFile(join(networksDir, "huge", "configs.json"), `{"huge": {"system": "x86_64-linux", "adminSshKeys": ["${"A".repeat(400 * 1024)}"]}}`);
    stack = await startManagerStack({
      config,
      session: () => ({ env: { NIX_CONFIG: TEST_NIX_CONFIG, XDG_DATA_HOME: dataHome }, daemonsAsRoot: true }),
    });
    ({ sway, user, screen } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dataHome) await rm(dataHome, { recursive: true, force: true });
  });

  it("shows a hostile configs.json as plain text and refuses it, and refuses one larger than any real one", async () => {
    await select("Hostile");
    const shown = await screen.waitFor("the hostile file's problem", (root) => labels(root).find((text) => text.includes("invalid network name")));
    expect(shown).toContain("<b>bold</b>");
    expect(shown).toContain("\\u202e");
    expect(findAll(await screen.tree(), isButton("Save and rebuild"))).toEqual([]);
    const read = await user.session.networkApplications("hostile");
    await expect(user.session.setNetworkApplications("hostile", read.configs, read.revision)).rejects.toThrow(
      'configs.json not saved: entry "<b>bold</b>\\u{202E}": invalid network name',
    );

    await select("Huge");
    await screen.waitFor("the oversized file's refusal", (root) => (labels(root).some((text) => /cannot read configs\.json: .*more than the 262144/.test(text)) ? true : undefined));
    await expect(user.session.setNetworkApplications("huge", "x".repeat(300 * 1024), "")).rejects.toThrow(/configs: is longer than 262144 characters/);
    await screenshot("applications-hostile.png");
  }, 120_000);

  it("makes a New network from the template with what the user typed, refusing a bad colour by its field", async () => {
    await screen.clickOn(await screen.waitFor("the New network button", (root) => findAll(root, isButton("New network"))[0]));
    const typeInto = async (row: string, text: string) => {
      const entry = await screen.waitFor(`the ${row} entry`, (root) => {
        const rows = findAll(root, isListItem(row));
        return rows.length === 1 ? below(rows[0]!, (node) => node.role === "text", "entry") : undefined;
      });
      await screen.clickOn(entry);
      await execa("wtype", ["-s", "300", "-M", "ctrl", "a", "-m", "ctrl", "-k", "BackSpace", text], { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
    };
    await typeInto("Name", "garden");
    await typeInto("Label", "Garden club");
    await typeInto("Colour", "green");
    await typeInto("Workspace", "5:garden");
    const create = async () => screen.clickOn(await screen.waitFor("Create network", (root) => findAll(root, (node) => isButton("Create network")(node) && node.states.includes("sensitive"))[0]));
    await create();
    await screen.waitFor("the colour refused by its field", (root) => (labels(root).some((text) => /^Not created: .*networks\.garden\.colour: must be a colour/.test(text)) ? true : undefined), 60_000);
    await typeInto("Colour", "#98c379");
    await create();
    await screen.waitFor("the network created", (root) => (labels(root).some((text) => text.startsWith("Created garden")) ? true : undefined), 60_000);
    await access(join(networksDir, "garden", "flake.nix"));
    expect(JSON.parse(await readFile(join(networksDir, "garden", "configs.json"), "utf8"))).toHaveProperty("garden.applications.syncthing.enable", true);
    const configured = JSON.parse(await readFile(user.configFile, "utf8")) as { networks: Record<string, unknown> };
    expect(configured.networks["garden"]).toEqual(newNetworkEntry(networksDir, "garden", { label: "Garden club", workspaces: ["5:garden"], colour: "#98c379" }));
    await screen.waitFor("Garden in the list", (root) => findAll(root, isListItem("Garden club"))[0]);
    await screenshot("new-network.png");
  }, 180_000);

  it("Settings: a click on a check box has clan-sessiond write config.json, and the window follows; a second click takes it back", async () => {
    const CHECK_UPDATES = "Check for updates automatically";
    const checkBox = (root: AccessibleNode) => findAll(root, (node) => node.role === "check box" && node.name === CHECK_UPDATES && node.states.includes("sensitive"))[0];
    const isChecked = (checked: boolean) => (root: AccessibleNode) => {
      const found = checkBox(root);
      return found && found.node.states.includes("checked") === checked ? found : undefined;
    };
    const checkInConfig = async () => (JSON.parse(await readFile(user.configFile, "utf8")) as { networks: { home: { updates?: { check?: boolean } } } }).networks.home.updates?.check;
    await select("Home");
    // The default (no "updates" in config.json) is to check.
    expect(await user.session.updatePolicy("home")).toEqual({ check: true, rebuild: false });
    await screen.clickOn(await screen.scrollIntoView(`the "${CHECK_UPDATES}" check box, checked`, isChecked(true)));
    await waitUntil(async () => ((await checkInConfig()) === false ? true : undefined), `config.json's networks.home.updates.check to be false:\n${user.sessiond.output().slice(-2000)}`, 30_000);
    expect(await user.session.updatePolicy("home")).toEqual({ check: false, rebuild: false });
    await screen.clickOn(await screen.waitFor(`the "${CHECK_UPDATES}" check box unchecked`, isChecked(false)));
    await waitUntil(async () => ((await checkInConfig()) === true ? true : undefined), "config.json's networks.home.updates.check to be true again", 30_000);
    await screen.waitFor(`the "${CHECK_UPDATES}" check box checked again`, isChecked(true));
    expect(await user.session.updatePolicy("home")).toEqual({ check: true, rebuild: false });
    await screenshot("settings-toggled.png");
    // Back to the top of the page, where the next test clicks the VM state row to put the focus in the detail.
    await screen.scrollIntoView("Home's VM state row", (root) => findAll(root, isListItem("VM state"))[0]);
  }, 240_000);

  it("toggles Syncthing off: the diff is shown with configs.json untouched, then Save and rebuild writes it and Nix builds it", async () => {
    const configsFile = join(networksDir, "home", "configs.json");
    const before = await readFile(configsFile, "utf8");
    await focusHomeDetail();
    const syncthingCheck = (root: AccessibleNode) => {
      const rows = findAll(root, isListItem(SYNCTHING_ENABLE));
      return rows.length === 1 ? below(rows[0]!, (node) => node.role === "check box", "check box") : undefined;
    };
    const diffLine = "~ home.applications.syncthing.enable: true → false";
    const diffShown = (shown: boolean) => (root: AccessibleNode) => (labels(root).includes(diffLine) === shown ? true : undefined);
    await screen.clickOn(await screen.tabIntoView("Syncthing's Enable check box", syncthingCheck));
    await screen.waitFor("the toggle's diff line", diffShown(true));
    await screen.clickOn(await screen.waitFor("Syncthing's Enable check box", syncthingCheck));
    await screen.waitFor("the diff line gone with the toggle undone", diffShown(false));
    await screen.clickOn(await screen.waitFor("Syncthing's Enable check box", syncthingCheck));
    await screen.waitFor("the toggle's diff line again", diffShown(true));
    expect(await readFile(configsFile, "utf8")).toBe(before);
    await screenshot("applications-toggled.png");

    await screen.clickOn(await screen.tabIntoView("Save and rebuild", (root) => findAll(root, (node) => isButton("Save and rebuild")(node) && node.states.includes("sensitive"))[0]));
    await screen.waitFor("the save's outcome", (root) => (screen.rowTexts(root, "Last save")?.some((text) => text.startsWith("Saved (1 change); rebuild started (job ")) ? true : undefined), 60_000);
    const expected = structuredClone(CONFIGS);
    expected.home.applications.syncthing.enable = false;
    expect(JSON.parse(await readFile(configsFile, "utf8"))).toEqual(expected);

    await screen.waitFor("generation 1 current and the rebuild done", (root) =>
      screen.rowTexts(root, "Generation 1 (current)") && screen.rowTexts(root, "Last action")?.some((text) => text.startsWith("Rebuild done: generation 1 is running"))
        ? true
        : undefined,
    240_000);
    expect(await user.session.buildLog("home")).toContain(`built home ${RUN} with syncthing off`);
    await screen.waitFor("the form read again, with nothing to save", (root) => (diffShown(false)(root) && labels(root).includes("no changes") ? true : undefined));
    await screenshot("applications-saved.png");
  }, 360_000);
});
