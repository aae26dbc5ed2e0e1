import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { below, findAll, type AccessibleNode, type Found } from "../helpers/accessibility.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import type { UserSession } from "../helpers/user-session.js";
import { isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// Keyboard activation in clan-manager under headless sway: Space on a check box and Enter on a button, pressed on
// sway's keyboard (wtype), each checked by its effect in clan-sessiond and on disk, so a widget that ignored the key
// fails the test. GTK 4.8 tells AT-SPI which widget has the focus after a pointer click (its state set says
// "focused") but not after Tab (no widget says it then, and its focus events name the widget the focus left), so
// each test puts the focus on a known widget with the pointer (a check box AT-SPI then says is focused; the entry
// the typed text lands in), moves it one step with Tab to the widget after it and presses the key there. A key that
// landed anywhere else would not have the effect asserted.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "wtype", "qemu-system-x86_64", "dbus-daemon", "setpriv", "busctl", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
// clan-sessiond runs as root so that it may write the networks directory the test made, as in the Applications test.
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root to run clan-sessiond on the user's bus)");

const CHECK_UPDATES = "Check for updates automatically";
const AUTO_REBUILD = "Rebuild when an update is found";

describe.skipIf(skip !== "")(`clan-manager driven by the keyboard: Space on a check box, Enter on a button${skip}`, () => {
  let user: UserSession;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let dataHome: string;
  let networksDir: string;

  const config = (): ConfigInput => ({
    networks: {
      home: { label: "Home", workspaces: ["2:home"], colour: "#98c379", source: { flake: `path:${join(networksDir, "home")}`, attribute: "packages.x86_64-linux.home" } },
    },
  });
  const checkBox = (name: string) => (root: AccessibleNode) => findAll(root, (node) => node.role === "check box" && node.name === name && node.states.includes("sensitive"))[0];
  const policyInConfig = async () => (JSON.parse(await readFile(user.configFile, "utf8")) as { networks: { home: { updates?: { check?: boolean; rebuild?: boolean } } } }).networks.home.updates;
  const focused = (what: string, target: (root: AccessibleNode) => Found | undefined) =>
    screen.waitFor(`AT-SPI to say that ${what} has the keyboard focus`, (root) => {
      const found = target(root);
      return found?.node.states.includes("focused") ? found : undefined;
    });

  beforeAll(async () => {
    dataHome = await mkdtemp(`/tmp/clan-keyactivate-${process.pid}-`);
    networksDir = join(dataHome, "clan-desktop", "networks");
    await mkdir(join(networksDir, "home"), { recursive: true });
    const configs = { home: { system: "x86_64-linux", networkLayer: "yggdrasil", applications: { syncthing: { enable: true, sharedFolders: [] } } } };
    await writeFile(join(networksDir, "home", "configs.json"), `${JSON.stringify(configs, null, 2)}\n`);
    stack = await startManagerStack({ config, session: () => ({ env: { XDG_DATA_HOME: dataHome }, daemonsAsRoot: true }) });
    ({ user, screen } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dataHome) await rm(dataHome, { recursive: true, force: true });
  });

  it("Space on a Settings check box (reached with Tab) has clan-sessiond write the setting, and Space again takes it back", async () => {
    await screen.clickOn(await screen.waitFor("Home in the list", (root) => findAll(root, isListItem("Home"))[0], 60_000));
    expect(await user.session.updatePolicy("home")).toEqual({ check: true, rebuild: false });
    // The pointer puts the focus on the check box above the one the keyboard toggles (and turns checking off, so
    // that the automatic rebuild turned on below finds nothing to rebuild).
    await screen.clickOn(await screen.scrollIntoView(`the "${CHECK_UPDATES}" check box`, checkBox(CHECK_UPDATES)));
    await waitUntil(async () => ((await policyInConfig())?.check === false ? true : undefined), "config.json's networks.home.updates.check to be false", 30_000);
    await focused(`the "${CHECK_UPDATES}" check box`, checkBox(CHECK_UPDATES));

    await screen.press("-k", "Tab");
    await screen.press("-k", "space");
    await waitUntil(async () => ((await policyInConfig())?.rebuild === true ? true : undefined), `config.json's networks.home.updates.rebuild to be true after Tab, Space:\n${user.sessiond.output().slice(-2000)}`, 30_000);
    expect(await user.session.updatePolicy("home")).toEqual({ check: false, rebuild: true });
    await screen.waitFor(`the "${AUTO_REBUILD}" check box checked`, (root) => (checkBox(AUTO_REBUILD)(root)?.node.states.includes("checked") ? true : undefined));

    // The focus stayed on the check box through clan-sessiond's write and the window's update.
    await screen.press("-k", "space");
    await waitUntil(async () => ((await policyInConfig())?.rebuild === false ? true : undefined), "config.json's networks.home.updates.rebuild to be false after Space again", 30_000);
    expect(await user.session.updatePolicy("home")).toEqual({ check: false, rebuild: false });
    await screen.waitFor(`the "${AUTO_REBUILD}" check box unchecked`, (root) => (checkBox(AUTO_REBUILD)(root)?.node.states.includes("checked") === false ? true : undefined));
  }, 180_000);

  it("Enter on Create network (reached with Tab from the last entry) makes the network", async () => {
    await screen.clickOn(await screen.waitFor("the New network button", (root) => findAll(root, isButton("New network"))[0]));
    const entryOf = (row: string) => (root: AccessibleNode) => {
      const rows = findAll(root, isListItem(row));
      return rows.length === 1 ? below(rows[0]!, (node) => node.role === "text", "entry") : undefined;
    };
    const typeInto = async (row: string, text: string) => {
      await screen.clickOn(await screen.waitFor(`the ${row} entry`, entryOf(row)));
      await screen.press("-M", "ctrl", "a", "-m", "ctrl", "-k", "BackSpace", text);
    };
    await typeInto("Name", "garden");
    await typeInto("Label", "Garden club");
    await typeInto("Colour", "#98c379");
    await typeInto("Workspace", "5:garden");
    expect(JSON.parse(await readFile(user.configFile, "utf8"))).not.toHaveProperty("networks.garden");

    await screen.press("-k", "Tab");
    await screen.press("-k", "Return");
    await screen.waitFor("the network created", (root) => (findAll(root, (node) => node.role === "label" && node.name.startsWith("Created garden")).length > 0 ? true : undefined), 60_000);
    const configured = JSON.parse(await readFile(user.configFile, "utf8")) as { networks: Record<string, unknown> };
    expect(configured.networks["garden"]).toEqual({
      label: "Garden club",
      workspaces: ["5:garden"],
      colour: "#98c379",
      source: { flake: `path:${join(networksDir, "garden")}`, attribute: "packages.x86_64-linux.garden" },
    });
    expect((await user.session.listNetworks()).map((network) => network.name)).toContain("garden");
    await screen.waitFor("Garden club in the list", (root) => findAll(root, isListItem("Garden club"))[0]);
  }, 180_000);
});
