import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { findAll, findOne, texts, type AccessibleNode } from "../helpers/accessibility.js";
import { REPO } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { swayScreenshot } from "../helpers/screenshot.js";
import type { HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import type { UserSession } from "../helpers/user-session.js";
import { isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// The manager's join page for real, under headless sway as the desktop user with the real clan-sessiond: links are
// pasted into it as a user types them (wtype on sway's keyboard), read back through AT-SPI. The attacker writes the
// links: one to a loopback host (where a listener counts every connection), a path: link to the user's own files,
// one over the length bound, a punycode look-alike. The page shows what each says or why it is refused, and
// nothing connects, nothing is registered, until "Fetch" is pressed (reached with Tab, pressed with Enter); then the
// fetch runs and connects.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "wtype", "grim", "convert", "dbus-daemon", "setpriv", "nix", "git", ATSPI_LAUNCHER];
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason;
const OUTPUT = join(REPO, "test-output", "manager");

const rowNamed = (title: string) => (node: AccessibleNode) => node.role === "list item" && node.name === title;

describe.skipIf(skip !== "")(`clan-manager's join page: nothing is fetched before Fetch${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let listener: Server;
  let port = 0;
  let connections = 0;
  let privateDir: string;
  let configBefore: string;
  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));

  /** The rows titled `title` on screen, with their texts. */
  const rows = (root: AccessibleNode, title: string) => findAll(root, rowNamed(title)).map((found) => texts(found.node).join(" "));

  /**
   * Replaces the entry's text with `link` by typing it, until the page shows what `shows` waits for. wtype's keyboard
   * is new at each run and GTK binds it asynchronously, so a first key press may be lost: the typing is repeated.
   */
  const paste = async (link: string, what: string, shows: (root: AccessibleNode) => boolean) => {
    for (let attempt = 1; ; attempt++) {
      await execa("wtype", ["-s", "300", "-M", "ctrl", "a", "-m", "ctrl", "-k", "BackSpace", link], { env: { WAYLAND_DISPLAY: sway.waylandDisplay } });
      try {
        return await screen.waitFor(what, (root) => (shows(root) ? root : undefined), 30_000);
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  };
  const confirmButton = (root: AccessibleNode) => findOne(root, "the Fetch button", isButton("Fetch"));

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as { port: number }).port;
    privateDir = await mkdtemp("/tmp/clan-manager3-private-");
    await writeFile(join(privateDir, "secret.txt"), "the user's own file\n");
    const config = async (sway: HeadlessSway): Promise<ConfigInput> => ({
      networks: {
        family: {
          label: "Family",
          workspaces: ["2:family"],
          colour: "#2e7dbf",
          source: { profile: await makeGeneration(join(sway.runtimeDir, "generations", "family"), { generation: "family-1", vm: { stateDiskMiB: 0 } }) },
        },
      },
    });
    // Nix evaluates as the user (clanctl join fetches with it): its state directory is the user's.
    stack = await startManagerStack({ config, session: (sway) => ({ env: { NIX_STATE_DIR: join(sway.runtimeDir, "nix-state") } }) });
    ({ sway, user, screen } = stack);
    configBefore = await readFile(user.configFile, "utf8");
  });

  afterAll(async () => {
    await stack?.stop();
    listener?.close();
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
  });

  it("opens the join page and shows what a loopback link says, with its warning, without connecting", async () => {
    await screen.waitFor("the networks list", (root) => (findAll(root, isListItem("Family")).length === 1 ? true : undefined), 60_000);
    await screen.clickOn(findOne(await screen.tree(), "the Join a network button", isButton("Join a network")));
    const page = await screen.waitFor("the join page", (root) => (findAll(root, (node) => node.role === "text").length === 1 ? root : undefined));
    expect(confirmButton(page).node.states).not.toContain("sensitive");
    await screen.clickOn(findOne(page, "the link entry", (node) => node.role === "text"));

    const link = `clan://git+https://127.0.0.1:${port}/club.git#alice`;
    const shown = await paste(link, "what the loopback link says", (root) => rows(root, "From").some((text) => text.includes("127.0.0.1")));
    expect(rows(shown, "Source").join()).toContain(`git+https://127.0.0.1:${port}/club.git`);
    expect(rows(shown, "Machine").join()).toContain("alice");
    expect(rows(shown, "Revision").join()).toContain("the newest commit of the default branch");
    expect(rows(shown, "Warning").join()).toContain("the host 127.0.0.1 is this computer (loopback)");
    expect(confirmButton(shown).node.states).toContain("sensitive");
    await screenshot("join-loopback.png");
    expect(connections).toBe(0);
  }, 180_000);

  it("refuses a path: link to the user's files and an overlong link, and flags a punycode look-alike", async () => {
    const path = await paste(`clan://path:${privateDir}`, "the path: link refused", (root) => rows(root, "Refused").some((text) => text.includes("may not name a directory")));
    expect(confirmButton(path).node.states).not.toContain("sensitive");
    expect(rows(path, "From")).toEqual([]);

    const huge = `clan://git+https://127.0.0.1:${port}/${"a".repeat(2100)}`;
    const refused = await paste(huge, "the overlong link refused", (root) => rows(root, "Refused").some((text) => text.includes("a join link has at most 2048")));
    expect(confirmButton(refused).node.states).not.toContain("sensitive");

    const lookalike = await paste("nix://https-xn--pypal-4ve.com/net", "the look-alike host flagged", (root) =>
      rows(root, "Warning").some((text) => text.includes("xn--pypal-4ve.com")),
    );
    expect(rows(lookalike, "From").join()).toContain("xn--pypal-4ve.com");
    await screenshot("join-lookalike.png");

    // Nothing connected, nothing was registered, no join ran.
    expect(connections).toBe(0);
    expect(await readFile(user.configFile, "utf8")).toBe(configBefore);
    for (const step of ["Fetching", "Joining"]) expect(findAll(await screen.tree(), rowNamed(step))).toHaveLength(0);
  }, 400_000);

  it("Fetch runs the fetch: it connects to the link's host, and its failure is on screen", async () => {
    const link = `clan://git+https://127.0.0.1:${port}/club.git#alice`;
    const shown = await paste(link, "the loopback link again", (root) => rows(root, "From").some((text) => text.includes("127.0.0.1")));
    expect(connections).toBe(0);
    expect(confirmButton(shown).node.states).toContain("sensitive");
    // As a keyboard user presses it: from the entry the link was typed into, Tab until Fetch has the focus, Enter.
    await screen.tabUntilFocused("the Fetch button", (root) => findAll(root, isButton("Fetch"))[0], 30);
    await screen.press("-k", "Return");
    const failed = await screen.waitFor("the fetch's failure", (root) => (rows(root, "Fetch failed").length === 1 ? root : undefined), 120_000);
    expect(texts(failed).join("\n")).toContain(`Fetching git+https://127.0.0.1:${port}/club.git`);
    expect(connections, texts(failed).join("\n")).toBeGreaterThan(0);
    await screenshot("join-failed.png");
  }, 300_000);
});
