import { mkdirSync } from "node:fs";
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

// The VPN peers of the shown network, for real: clan-vmd (as root, which makes the network's namespace and its
// wireguard-go endpoint) runs the test guest of a network whose VPN lists a peer that never answers; the window,
// as the desktop user under headless sway, shows that peer as clan-vmd reports it through clan-sessiond (not
// connected, no handshake, its addresses and endpoint, the handshake attempts sent), read through AT-SPI. Block and
// Unblock, reached with Tab and pressed with Enter on sway's keyboard (wtype), change the peer in clan-vmd and on screen.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "wtype", "grim", "qemu-system-x86_64", "dbus-daemon", "setpriv", "ip", "wireguard-go", "wg", "nft", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root for the VPN's namespace)");
const OUTPUT = join(REPO, "test-output", "manager");
/** TEST-NET-1 (RFC 5737): nothing answers there, so the peer stays without a handshake. */
const BOB_ENDPOINT = "192.0.2.1:51820";

describe.skipIf(skip !== "")(`clan-manager shows the network's VPN peers and blocks one${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));
  const bobRow = (root: Parameters<ManagerScreen["rowTexts"]>[0]) => screen.rowTexts(root, "bob")?.join(" ");

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const bobKey = (await execa("wg", ["pubkey"], { input: (await execa("wg", ["genkey"])).stdout })).stdout.trim();
    const config = async (sway: HeadlessSway): Promise<ConfigInput> => {
      const generation = await makeGeneration(join(sway.runtimeDir, "generations", "family"), {
        generation: "family-vpn",
        vm: {
          stateDiskMiB: 0,
          network: {
            mode: "vpn",
            vpn: {
              kind: "wireguard",
              placement: "host-namespace",
              address: "10.77.0.2",
              listenPort: 51820,
              peers: [{ name: "bob", publicKey: bobKey, endpoint: BOB_ENDPOINT, allowedIps: ["10.77.0.3/32"] }],
            },
          },
        },
      });
      return { networks: { family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: generation } } } };
    };
    stack = await startManagerStack({ config, session: () => ({ daemonsAsRoot: true }) });
    ({ sway, user, screen } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("lists the peer as clan-vmd reports it: not connected, never a handshake, its addresses, endpoint and traffic", async () => {
    await user.session.start("family");
    await user.waitForNetwork("family", (status) => status.vpnState === "up", 120_000);
    await screen.waitFor("family in the list", (root) => (findAll(root, isListItem("Family")).length === 1 ? true : undefined), 60_000);
    await screen.clickOn(findOne(await screen.tree(), "family's row", isListItem("Family")));
    const row = await screen.waitFor("bob in the VPN peers", (root) => bobRow(root), 60_000);
    expect(row).toContain("not connected · last handshake never · addresses 10.77.0.3/32");
    expect(row).toContain(`endpoint ${BOB_ENDPOINT}`);
    expect(row).toMatch(/\d+(\.\d)? (B|KiB) received, \d+(\.\d)? (B|KiB) sent/);
    const [peer] = await user.session.peers("family");
    expect(peer).toMatchObject({ name: "bob", connected: false, lastHandshake: 0, blocked: false });
    const state = screen.rowTexts(await screen.tree(), "VPN state")?.join(" ");
    expect(state).toContain("up, 0 connected peers");
    await screenshot("vpn-peers.png");
  }, 240_000);

  it("Block, reached with Tab and pressed with Enter, cuts the peer off in clan-vmd; the focus stays on the peer, and Enter on Unblock lets it back", async () => {
    const peerButton = (name: string) => (root: AccessibleNode) => {
      const rows = findAll(root, isListItem("bob"));
      return rows.length === 1 ? findAll(rows[0]!.node, isButton(name)).map((found) => ({ ...found, path: [...rows[0]!.path, ...found.path] }))[0] : undefined;
    };
    // The pointer puts the focus into the detail (on its first row); from there on the keyboard alone, as a keyboard
    // user reaches the peers below the monitoring graphs.
    await screen.clickOn(await screen.waitFor("family's VM state row", (root) => findAll(root, isListItem("VM state"))[0]));
    await screen.waitFor("the VM state row focused", (root) => (findAll(root, isListItem("VM state"))[0]?.node.states.includes("focused") ? true : undefined));
    await screen.tabUntilFocused("bob's Block button", peerButton("Block"));
    await screen.press("-k", "Return");
    await screen.waitFor("bob blocked on screen", (root) => (bobRow(root)?.startsWith("bob blocked") ? true : undefined), 60_000);
    expect((await user.session.peers("family"))[0]?.blocked).toBe(true);
    await screenshot("vpn-peer-blocked.png");

    // The row is rebuilt with Unblock in place of Block, and the focus moves with it (no Tab from the window's top).
    await screen.waitFor("AT-SPI to say that bob's Unblock button has the keyboard focus", (root) => (peerButton("Unblock")(root)?.node.states.includes("focused") ? true : undefined));
    await screen.press("-k", "Return");
    await screen.waitFor("bob not blocked on screen", (root) => (bobRow(root)?.startsWith("bob not connected") ? true : undefined), 60_000);
    expect((await user.session.peers("family"))[0]?.blocked).toBe(false);
    expect(texts(await screen.tree()).join("\n")).not.toMatch(/Refused/);
  }, 360_000);
});
