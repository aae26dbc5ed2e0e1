import { stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { findAll, startAccessibilityBus, type AccessibilityBus, type AccessibleNode } from "../helpers/accessibility.js";
import { REPO } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { startUserSession, type UserDaemon, type UserSession } from "../helpers/user-session.js";
import { connectVirtualPointer, type VirtualPointer } from "../helpers/virtual-pointer.js";
import { isButton, managerWindows, managerScreen, type ManagerScreen } from "./manager-screen.js";

// A link clicked while no manager is open: `clan-manager --join LINK` (the link handler's Exec line) is then the
// one instance, hands the link to its own join action and opens the window on the join page with it, previewed
// and not fetched. (With a window open, clan-manager-join-build.e2e.test.ts opens links with gio.) Any program of
// the session may hand the open window a link: one of 100 035 characters is refused by its real size, unread.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "dbus-daemon", "setpriv", ATSPI_LAUNCHER];
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason;

describe.skipIf(skip !== "")(`clan-manager --join with no window open${skip}`, () => {
  let sway: HeadlessSway | undefined;
  let pointer: VirtualPointer | undefined;
  let user: UserSession | undefined;
  let a11y: AccessibilityBus | undefined;
  let manager: UserDaemon | undefined;
  let screen: ManagerScreen | undefined;

  afterAll(async () => {
    await manager?.stop();
    await a11y?.stop();
    pointer?.close();
    await user?.stop();
    await sway?.stop();
  });

  it("opens the one window on the join page with the link, and Fetch waits for the user", async () => {
    sway = await startHeadlessSway();
    pointer = await connectVirtualPointer(sway.waylandDisplay);
    const { uid, gid } = await stat(sway.runtimeDir);
    user = await startUserSession({ uid, gid }, { config: { networks: {} }, wmEnv: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir } });
    a11y = await startAccessibilityBus({ uid, gid }, user.env);
    const link = "clan://git+https://git.example.org/club.git?ref=main#alice";
    const started = (manager = user.spawn("node", [join(REPO, "bin", "clan-manager.js"), "--join", link], { GDK_BACKEND: "wayland" }));
    const shown = (screen = managerScreen(a11y, sway, pointer, () => started));
    const rows = (root: AccessibleNode, title: string) => findAll(root, (node) => node.role === "list item" && node.name === title);
    const page = await shown.waitFor("the join page with the link", (root) =>
      shown.rowTexts(root, "Source")?.join(" ").includes("git+https://git.example.org/club.git") && rows(root, "Machine").length === 1 ? root : undefined, 60_000);
    expect(shown.rowTexts(page, "Machine")?.join(" ")).toContain("alice");
    expect(findAll(page, isButton("Fetch")).map((found) => found.node.states.includes("sensitive"))).toEqual([true]);
    expect(rows(page, "Fetching")).toEqual([]);
    const tree = JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-t", "get_tree", "-r"])).stdout);
    expect(managerWindows(tree)).toHaveLength(1);
  }, 180_000);

  it("a link too long for any join link, handed to the open window, is refused with its real size", async () => {
    if (!user || !screen) throw new Error("the window of the first test is not open");
    const shown = screen;
    const huge = `clan://git+https://git.example.org/${"a".repeat(100_000)}`;
    const second = user.spawn("node", [join(REPO, "bin", "clan-manager.js"), "--join", huge], { GDK_BACKEND: "wayland" });
    const page = await shown.waitFor("the huge link refused", (root) => (shown.rowTexts(root, "Refused")?.length ? root : undefined), 60_000);
    expect(shown.rowTexts(page, "Refused")?.join(" ")).toContain(`refused join link: it is ${huge.length} bytes long; a join link has at most 2048 characters, all ASCII`);
    expect(findAll(page, isButton("Fetch")).map((found) => found.node.states.includes("sensitive"))).toEqual([false]);
    await second.process;
    expect(second.process.exitCode, second.output()).toBe(0);
  }, 120_000);
});
