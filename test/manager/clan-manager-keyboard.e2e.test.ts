import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { below, findAll, type AccessibleNode, type Found } from "../helpers/accessibility.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import type { UserSession } from "../helpers/user-session.js";
import { isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack, newNetworkEntry } from "./manager-stack.js";

// Keyboard activation in clan-manager under headless sway: Space on a check box and Enter on a button, pressed on
// sway's keyboard (wtype). Tab moves the focus until AT-SPI says the wanted widget has it (GTK 4.8 says so while
// the window is active, which the stack's held keyboard keeps it), then the key is pressed and its effect checked
// in clan-sessiond and on disk: a widget that ignored the key fails the test. The pointer only chooses the network
// and clicks the detail's first row (so that Tab starts in the detail: in the networks list it selects the next
// network) and the New network entries it types into.

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
  /** config.json's policy for home once clan-sessiond reports the same over D-Bus (it writes the file, then applies it). */
  const policySettled = (check: boolean) =>
    waitUntil(
      async () => ((await policyInConfig())?.check === check && (await user.session.updatePolicy("home")).check === check ? true : undefined),
      `networks.home.updates.check to be ${check} in config.json and over D-Bus:\n${user.sessiond.output().slice(-2000)}`,
      30_000,
    );
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

  it("Space on a Settings check box reached with Tab has clan-sessiond write the setting, and Space again takes it back", async () => {
    await screen.clickOn(await screen.waitFor("Home in the list", (root) => findAll(root, isListItem("Home"))[0], 60_000));
    expect(await user.session.updatePolicy("home")).toEqual({ check: true, rebuild: false });
    // The pointer puts the focus into the detail (on its first row); from there on the keyboard alone.
    await screen.clickOn(await screen.waitFor("Home's VM state row", (root) => findAll(root, isListItem("VM state"))[0], 60_000));
    await focused("the VM state row", (root) => findAll(root, isListItem("VM state"))[0]);
    await screen.tabUntilFocused(`the "${CHECK_UPDATES}" check box`, checkBox(CHECK_UPDATES));

    await screen.press("-k", "space");
    await policySettled(false);
    expect(await user.session.updatePolicy("home")).toEqual({ check: false, rebuild: false });
    await screen.waitFor(`the "${CHECK_UPDATES}" check box unchecked`, (root) => (checkBox(CHECK_UPDATES)(root)?.node.states.includes("checked") === false ? true : undefined));

    // The focus stays on the check box through clan-sessiond's write and the window's update.
    await focused(`the "${CHECK_UPDATES}" check box`, checkBox(CHECK_UPDATES));
    await screen.press("-k", "space");
    await policySettled(true);
    expect(await user.session.updatePolicy("home")).toEqual({ check: true, rebuild: false });
    await screen.waitFor(`the "${CHECK_UPDATES}" check box checked again`, (root) => (checkBox(CHECK_UPDATES)(root)?.node.states.includes("checked") ? true : undefined));
  }, 360_000);

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

    // The next widget after the Workspace entry (whose text shows that the focus is in it).
    await screen.tabUntilFocused("the Create network button", (root) => findAll(root, isButton("Create network"))[0], 3);
    await screen.press("-k", "Return");
    await screen.waitFor("the network created", (root) => (findAll(root, (node) => node.role === "label" && node.name.startsWith("Created garden")).length > 0 ? true : undefined), 60_000);
    const configured = JSON.parse(await readFile(user.configFile, "utf8")) as { networks: Record<string, unknown> };
    expect(configured.networks["garden"]).toEqual(newNetworkEntry(networksDir, "garden", { label: "Garden club", workspaces: ["5:garden"], colour: "#98c379" }));
    expect((await user.session.listNetworks()).map((network) => network.name)).toContain("garden");
    await screen.waitFor("Garden club in the list", (root) => findAll(root, isListItem("Garden club"))[0]);
  }, 180_000);
});
