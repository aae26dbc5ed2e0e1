import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import type { Job } from "../../src/shared/job-api.js";
import { below, findAll, findOne, texts, type AccessibilityBus, type AccessibleNode, type Found } from "../helpers/accessibility.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { makeExt4Disk } from "../helpers/ext4-disk.js";
import { createNetworkFlake, FLAKE, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { swayScreenshot } from "../helpers/screenshot.js";
import type { HeadlessSway } from "../helpers/sway.js";
import type { UserSession } from "../helpers/user-session.js";
import { APP, isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// clan-manager's jobs end to end: a rebuild of a flake network through the real Nix, whose build log is streamed
// into the window while it builds, and a backup and a restore with the real restic, chosen in the snapshot picker
// and confirmed in its row. The window runs as the desktop user under headless sway, read through AT-SPI and
// driven by pointer, AT-SPI and the keyboard (the restore: Tab and Enter on sway's keyboard, wtype); clan-vmd and
// clan-sessiond run as root on that user's bus, because the Nix store of these machines needs root to build (as in
// test/session/rebuild.e2e.test.ts).
// The build prints what a hostile network's build could: a terminal escape (OSC 0, which sets a terminal's title)
// and Pango markup; the window must show both as the characters they are.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "wtype", "grim", "qemu-system-x86_64", "qemu-img", "mkfs.ext4", "dbus-daemon", "setpriv", "nix", "nix-env", "git", "restic", "busctl", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root for the Nix store)");
const OUTPUT = join(REPO, "test-output", "manager");
/** Unique per run: a generation Nix already has is not built again, and then prints no build log. */
const RUN = `${Date.now().toString(36)}-${process.pid}`;
/** Seconds the build waits after its first line: the window must show that line while the build still runs. */
const BUILD_PAUSE_SECONDS = 20;
/** What a hostile build prints: OSC 0 (a terminal's title) and Pango markup, on the build's first line. */
const HOSTILE_LINE = `stage one ${RUN} \\033]0;pwned-title\\007<b>not bold</b>`;
/** How the window must show it: the escape sequence's bytes spelled out, the markup as text. */
const HOSTILE_SHOWN = `stage one ${RUN} \\x1b]0;pwned-title\\x07<b>not bold</b>`;

describe.skipIf(skip !== "")(`clan-manager's build log, backups and restore, through AT-SPI under sway${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let a11y: AccessibilityBus;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let flake: NetworkFlake;
  let tmp: string;
  const jobs: Job[] = [];

  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));
  const labels = (root: AccessibleNode) => findAll(root, (node) => node.role === "label").map((found) => found.node.name);
  const snapshotRows = (root: AccessibleNode) => findAll(root, (node) => node.role === "list item" && /^Snapshot [0-9a-f]{8}$/.test(node.name));
  const network = (withBackup: boolean): ConfigInput => ({
    networks: {
      family: {
        label: "Family",
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { flake: flake.url },
        ...(withBackup ? { backup: { repository: join(tmp, "repository"), password: { file: join(tmp, "password") }, keep: { last: 50 } } } : {}),
      },
    },
  });

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    tmp = await mkdtemp(join(tmpdir(), "clan-manager-jobs-"));
    await writeFile(join(tmp, "password"), `pw-${randomBytes(9).toString("hex")}\n`, { mode: 0o600 });
    flake = await createNetworkFlake();
    const builder = `/bin/busybox printf '${HOSTILE_LINE}\\n'\n        /bin/busybox sleep ${BUILD_PAUSE_SECONDS}\n        mkdir $out`;
    await flake.commit(`family-${RUN}`, {
      flake: FLAKE.replace("mkdir $out", builder),
      // A state disk for restic to back up; the test guest mounts its ext4 at /state.
      files: { "generation/vm.json": `${JSON.stringify({ memoryMiB: 256, stateDiskMiB: 64, readyTimeoutSeconds: 60 })}\n` },
    });
    stack = await startManagerStack({ config: () => network(false), session: () => ({ env: { NIX_CONFIG: TEST_NIX_CONFIG }, daemonsAsRoot: true }) });
    ({ sway, user, a11y, screen } = stack);
    await makeExt4Disk(join(user.dir, "state", "vmd", "family", "state.qcow2"));
    user.session.onJobChanged((job) => jobs.push(job), (error) => {
      throw error;
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (flake) await rm(flake.dir, { recursive: true, force: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("streams a rebuild's log into the window while it builds, showing an escape sequence and markup as inert text", async () => {
    await screen.clickOn(await screen.waitFor("family in the list", (root) => findAll(root, isListItem("Family"))[0], 60_000));
    const rebuild = await screen.waitFor("family's Rebuild button", (root) => {
      const source = findAll(root, isListItem("Source"));
      return source.length === 1 ? below(source[0]!, isButton("Rebuild"), "Rebuild button") : undefined;
    });
    await screen.clickOn(rebuild);
    // The first line is on screen while the build still sleeps: it was streamed, not shown once the build ended.
    await screen.waitFor("the build's first line in the build log", (root) => (labels(root).some((text) => text.includes(`stage one ${RUN}`)) ? true : undefined), 90_000);
    expect((await user.session.getNetwork("family")).buildState).toBe("building");
    const shown = labels(await screen.tree());
    expect(shown.find((text) => text.includes(`stage one ${RUN}`))).toContain(HOSTILE_SHOWN);
    expect(shown.filter((text) => /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text))).toEqual([]);
    await screenshot("family-building.png");

    await screen.waitFor("generation 1 current and the rebuild done", (root) =>
      screen.rowTexts(root, "Generation 1 (current)") && screen.rowTexts(root, "Last action")?.some((text) => text.startsWith("Rebuild done: generation 1 is running"))
        ? true
        : undefined,
    180_000);
    const log = labels(await screen.tree()).find((text) => text.includes(`stage one ${RUN}`));
    expect(log).toContain("built generation");
    expect(jobs.filter((job) => job.kind === "rebuild").at(-1)).toMatchObject({ state: "succeeded" });
    await screenshot("family-rebuilt.png");
  }, 300_000);

  it("lists the snapshots, backs up now, and restores the chosen snapshot only once the user confirms it", async () => {
    await writeFile(user.configFile, JSON.stringify(network(true), null, 2));
    await user.session.reloadConfig();
    // Never backed up, family is backed up at once; its snapshot appears in the picker.
    const first = await screen.waitFor("the first snapshot in the picker", (root) => {
      const rows = snapshotRows(root);
      return rows.length === 1 ? rows[0]!.node.name : undefined;
    }, 180_000);
    await user.waitForNetwork("family", (status) => status.backupState === "ok" && status.jobId === "", 60_000);
    const backUp = findOne(await screen.tree(), "the Back up now button", isButton("Back up now"));
    await a11y.act(APP, backUp, "click");
    const snapshots = await screen.waitFor("a second snapshot, newest first", (root) => {
      const names = snapshotRows(root).map((row) => row.node.name);
      return names.length === 2 && names[1] === first ? names : undefined;
    }, 180_000);
    const stored = await user.session.backups("family");
    expect(stored.map((snapshot) => `Snapshot ${snapshot.id.slice(0, 8)}`).reverse()).toEqual(snapshots);
    const older = stored[0]!;
    await screenshot("family-snapshots.png");

    /** The button `name` in the older snapshot's row; with `asking`, only once that row asks whether to restore it. */
    const olderButton = (name: string, asking: boolean) => (root: AccessibleNode) => {
      const rows = findAll(root, isListItem(first));
      if (rows.length !== 1) return undefined;
      const row = rows[0]!;
      const asks = texts(row.node).some((text) => text.includes("Restore it? The VM stops, its state disk is replaced"));
      if (asks !== asking) return undefined;
      return findAll(row.node, isButton(name)).map((found) => ({ node: found.node, path: [...row.path, ...found.path] }))[0];
    };
    const focused = (what: string, target: (root: AccessibleNode) => Found | undefined) =>
      screen.waitFor(`AT-SPI to say that ${what} has the keyboard focus`, (root) => (target(root)?.node.states.includes("focused") ? true : undefined));
    // Pressed as a keyboard user presses them: the pointer puts the focus on the Backup state row (scrolled into
    // view with the wheel), then Tab reaches the older snapshot's Restore this and Enter presses it. The row's
    // question then has the focus on its harmless button (Cancel), and Cancel gives it back to Restore this.
    const backupState = (root: AccessibleNode) => findAll(root, isListItem("Backup state"))[0];
    await screen.clickOn(await screen.scrollIntoView("the Backup state row", backupState));
    await focused("the Backup state row", backupState);
    await screen.tabUntilFocused("the older snapshot's Restore this button", olderButton("Restore this", false));
    // Cancelled: the row asks no more and nothing is restored.
    await screen.press("-k", "Return");
    await focused("the question's Cancel button", olderButton("Cancel", true));
    await screenshot("family-restore-asked.png");
    await screen.press("-k", "Return");
    await focused("the older snapshot's Restore this button, offered again", olderButton("Restore this", false));
    expect(jobs.filter((job) => job.kind === "restore")).toEqual([]);
    expect((await user.session.getNetwork("family")).jobKind).toBe("");

    // Confirmed: Restore is the question's next widget after Cancel; the older snapshot is restored as a job, and
    // the window says so.
    await screen.press("-k", "Return");
    await focused("the question's Cancel button", olderButton("Cancel", true));
    await screen.tabUntilFocused("the question's Restore button", olderButton("Restore", true), 3);
    await screen.press("-k", "Return");
    const restored = await waitUntil(() => jobs.find((job) => job.kind === "restore" && job.state !== "running"), "the restore job to end", 180_000);
    expect(restored).toMatchObject({ state: "succeeded", result: older.id });
    await screen.waitFor("the restore's outcome in the window", (root) =>
      screen.rowTexts(root, "Last action")?.includes(`Restore done: ${older.id}`) ? true : undefined,
    );
    expect(existsSync(join(user.dir, "state", "vmd", "family", "state.qcow2.previous"))).toBe(true);
    // Started again on the restored disk (clan-sessiond's policy then pauses it: its workspace is not in focus).
    await user.waitForNetwork("family", (status) => status.vmState === "running" || status.vmState === "paused", 120_000);
    expect(jobs.filter((job) => job.id === restored.id).map((job) => job.phase)).toContain("start the VM on the restored disk");
    await screenshot("family-restored.png");
  }, 600_000);
});
