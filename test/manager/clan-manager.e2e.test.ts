import { mkdirSync } from "node:fs";
import { chown, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { below, findAll, findOne, texts, type AccessibilityBus } from "../helpers/accessibility.js";
import { REPO } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels, swayScreenshot } from "../helpers/screenshot.js";
import type { HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import type { SessionUser, UserDaemon, UserSession } from "../helpers/user-session.js";
import { APP, isButton, isListItem, managerWindows, type ManagerScreen, type SwayNode } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// clan-manager for real: under headless sway as the desktop user, against that user's real clan-sessiond and
// clan-vmd booting the test guest under QEMU. What the window shows is read through the accessibility tree
// (AT-SPI), as a screen reader reads it, and driven as a user drives it: a pointer (sway's virtual pointer) chooses
// a network and rolls back to an older generation, and Start is pressed through AT-SPI as a screen reader user
// would. Each result is checked on screen and in clan-sessiond.
// Screenshots are kept in test-output/manager/ for people to look at.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "grim", "convert", "qemu-system-x86_64", "dbus-daemon", "setpriv", "nix-env", "busctl", ATSPI_LAUNCHER];
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason;
const OUTPUT = join(REPO, "test-output", "manager");
const FAMILY = "#2e7dbf";
const CLUB = "#b5462f";
/** Pango markup in a label is shown as the characters it is: GTK must not read it as markup. */
const CLUB_LABEL = "<b>Club</b> & <span foreground='red'>co</span>";
/** The revision recorded for generation 1 of family, as a rebuild records it. */
const REVISION_1 = "1f3a5c7e9b2d4f6a8c0e1f3a5c7e9b2d4f6a8c0e";

describe.skipIf(skip !== "")(`clan-manager under sway, read through AT-SPI, driven by pointer and AT-SPI${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let a11y: AccessibilityBus;
  let manager: UserDaemon;
  let generations: string;

  let screen: ManagerScreen;
  let stack: ManagerStack;
  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    // clan-sessiond without a window manager backend: the window, not workspace focus, drives the VMs here.
    stack = await startManagerStack({
      config: networks,
      session: (sway) => ({ env: { NIX_STATE_DIR: join(sway.runtimeDir, "nix-state") } }),
    });
    ({ sway, user, a11y, manager, screen } = stack);
  });

  /** family with a Nix profile of two generations, and club whose label carries markup. */
  const networks = async (sway: HeadlessSway, { uid, gid }: SessionUser): Promise<ConfigInput> => {
    generations = join(sway.runtimeDir, "generations");
    const profiles = join(sway.runtimeDir, "profiles");
    await mkdir(profiles);
    // family's generations form a Nix profile (family-N-link, family → the current one) that clan-sessiond
    // switches with nix-env, as the user: so the directory is the user's.
    for (const number of [1, 2]) {
      const generation = await makeGeneration(join(generations, `family-${number}`), { generation: `family-${number}`, vm: { stateDiskMiB: 0 } });
      await symlink(generation, join(profiles, `family-${number}-link`));
    }
    await symlink("family-2-link", join(profiles, "family"));
    await writeFile(
      join(profiles, "family.revisions.json"),
      JSON.stringify({ [join(generations, "family-1")]: { revision: REVISION_1, lastModified: 1, builtAt: 1 } }),
    );
    for (const name of ["", "family", "family-1-link", "family-2-link", "family.revisions.json"]) await chown(join(profiles, name), uid, gid).catch(() => undefined);
    return {
      networks: {
        family: { label: "Family", workspaces: ["2:family"], colour: FAMILY, source: { profile: join(profiles, "family") } },
        club: {
          label: CLUB_LABEL,
          workspaces: ["3:club"],
          colour: CLUB,
          source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) },
        },
      },
    };
  };

  afterAll(async () => {
    await stack?.stop();
  });

  it("lists every network with its colour and VM state, a label with markup as plain text", async () => {
    await screen.waitFor("both networks, stopped, in the list", (root) => {
      const family = screen.rowTexts(root, "Family");
      const club = screen.rowTexts(root, CLUB_LABEL);
      return family?.includes("stopped") && club?.includes("stopped") ? true : undefined;
    }, 60_000);
    const shot = await screenshot("networks.png");
    // The swatches in the sidebar (the left 300 pixels) are drawn in each network's colour.
    const sidebar = { x: 0, y: 0, width: 300, height: 400 };
    expect(await countPixels(shot, sidebar, FAMILY)).toBeGreaterThan(100);
    expect(await countPixels(shot, sidebar, CLUB)).toBeGreaterThan(100);
  });

  it("shows the chosen network's detail, and Start boots its VM: running on screen and in clan-sessiond", async () => {
    // Chosen with the pointer (GTK may have selected the first row when the window took the focus).
    await screen.clickOn(findOne(await screen.tree(), "family's row", isListItem("Family")));
    const start = await screen.waitFor("family's detail with its Start button", (now) => {
      const vm = findAll(now, isListItem("VM state"));
      if (vm.length !== 1 || !texts(vm[0]!.node).includes("stopped")) return undefined;
      const button = below(vm[0]!, isButton("Start"), "Start button");
      return button.node.states.includes("sensitive") ? button : undefined;
    });
    // Its generations, newest first, with the revision clan-sessiond recorded for generation 1.
    const detail = await screen.tree();
    expect(screen.rowTexts(detail, "Generation 2 (current)")).toBeDefined();
    expect(screen.rowTexts(detail, "Generation 1")?.join(" ")).toContain(`revision ${REVISION_1.slice(0, 12)}`);
    expect(screen.rowTexts(detail, "Network mode")).toBeDefined();

    await a11y.act(APP, start, "click");
    await user.waitForNetwork("family", (status) => status.vmState === "running", 90_000);
    await screen.waitFor("family running in its detail and in the list", (now) =>
      screen.rowTexts(now, "VM state")?.includes("running") && screen.rowTexts(now, "Family")?.includes("running") ? true : undefined,
    );
    expect((await user.session.getNetwork("family")).generation).toBe(join(generations, "family-2"));
    await screenshot("family-running.png");
  }, 150_000);

  it("rolls back to an older generation through the window: generation 1 boots, in clan-sessiond and on screen", async () => {
    const root = await screen.tree();
    const older = findOne(root, "generation 1's row", isListItem("Generation 1"));
    // An AT-SPI action, as a screen reader user presses it: the monitoring graphs put generations below the fold,
    // where a pointer would miss.
    await a11y.act(APP, below(older, isButton("Roll back to this"), "its rollback button"), "click");
    await screen.waitFor("generation 1 current, after the rollback job", (now) =>
      screen.rowTexts(now, "Generation 1 (current)") && screen.rowTexts(now, "Last action")?.includes("Roll back done: generation 1 is current") ? true : undefined,
    90_000);
    const listed = await user.session.generations("family");
    expect(listed.find((generation) => generation.current)?.number).toBe(1);
    // The VM was running, so the rollback booted generation 1 in it.
    await user.waitForNetwork("family", (status) => status.vmState === "running" && status.generation === join(generations, "family-1"), 60_000);
    await screenshot("family-rolled-back.png");
  }, 150_000);

  it("says clan-sessiond is not running while it is away, and shows the networks again when it returns", async () => {
    await user.stopSessiond();
    await screen.waitFor("the status page", (root) => (texts(root).includes("clan-sessiond is not running") ? true : undefined));
    expect(findAll(await screen.tree(), isListItem("Family"))).toHaveLength(0);
    await screenshot("sessiond-missing.png");
    await user.startSessiond();
    // The new clan-sessiond decides the VM's fate by its policy (it pauses a VM whose workspace is not in focus):
    // the window shows what it publishes.
    await screen.waitFor("the networks again, as the new clan-sessiond has them", async (now) => {
      const state = (await user.session.getNetwork("family").catch(() => undefined))?.vmState;
      return state !== undefined && screen.rowTexts(now, "Family")?.includes(state) && screen.rowTexts(now, CLUB_LABEL) ? true : undefined;
    });
  }, 60_000);

  it("clanctl manager again presents the open window: it returns at once and sway still has one manager window", async () => {
    const again = user.spawn("node", [join(REPO, "bin", "clanctl.js"), "manager"], { GDK_BACKEND: "wayland" });
    const result = await again.process;
    expect(result.exitCode, again.output()).toBe(0);
    const { stdout } = await execa("swaymsg", ["-s", sway.socketPath, "-t", "get_tree", "-r"]);
    expect(managerWindows(JSON.parse(stdout) as SwayNode)).toHaveLength(1);
    expect(manager.process.exitCode).toBeNull();
  }, 60_000);
});
