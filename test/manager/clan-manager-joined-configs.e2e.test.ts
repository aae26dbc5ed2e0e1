import { chown, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findAll, texts, type AccessibleNode } from "../helpers/accessibility.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { createNetworkFlake, FLAKE, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { swayScreenshot } from "../helpers/screenshot.js";
import type { HeadlessSway } from "../helpers/sway.js";
import type { UserSession } from "../helpers/user-session.js";
import { isButton, isListItem, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// A joined network's configs.json in the manager's Applications page, end to end: two networks whose sources are
// git repositories that are not the user's (standing in for their admins' repositories), each built for real by
// clan-sessiond (root on the user's bus, as this machine's store needs) with Nix and booted in QEMU. The window (as
// the desktop user under headless sway, read through AT-SPI) shows club's configs.json as built in generation 1,
// read-only, with no Save button; after the admins commit a newer configs.json (not built), the page still shows
// the built one, also when the store copy the build recorded is forgotten and the pinned revision is fetched again.
// The attacker: the admins of "sneaky" ship configs.json as a symlink to a file in the user's home holding a marker.
// The page must show none of it and say why it shows nothing.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "grim", "qemu-system-x86_64", "dbus-daemon", "setpriv", "nix", "nix-env", "git", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root for the Nix store)");
const OUTPUT = join(REPO, "test-output", "manager");
/** Unique per run: a generation Nix already has would not be built again. */
const RUN = `${Date.now().toString(36)}-${process.pid}`;
const MARKER = `users-own-secret-${RUN}`;

const SHARED_FOLDERS = "Applications › Syncthing › Shared folders";
const SYNCTHING_ENABLE = "Applications › Syncthing › Enable";
const NETWORK_LAYER = "Network layer";

function clubConfigs(folder: string): string {
  return `${JSON.stringify({ club: { system: "x86_64-linux", networkLayer: "none", applications: { syncthing: { enable: false, sharedFolders: [folder] } } } }, null, 2)}\n`;
}

describe.skipIf(skip !== "")(`clan-manager shows a joined network's configs.json read-only, as built${skip}`, () => {
  let sway: HeadlessSway;
  let user: UserSession;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let club: NetworkFlake;
  let sneaky: NetworkFlake;
  let clubRevision: string;

  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));
  const select = async (label: string) => screen.clickOn(await screen.waitFor(`${label} in the list`, (root) => findAll(root, isListItem(label))[0], 60_000));
  const status = (root: AccessibleNode) => screen.rowTexts(root, "configs.json")?.join(" ") ?? "";
  const everyName = (root: AccessibleNode) => findAll(root, () => true).map((found) => found.node.name);
  const profileOf = (network: string) => join(user.dir, "state", "xdg", "clan-desktop", "profiles", network);
  const flakeFor = (network: string) => FLAKE.replace("packages.x86_64-linux.default", `packages.x86_64-linux.${network}`);
  /** Builds and boots the network's source as a rebuild job of clan-sessiond, then stops its VM (the cores are shared). */
  const build = async (network: string) => {
    const id = await user.session.startRebuild(network);
    await waitUntil(async () => {
      const job = await user.session.getJob(id);
      if (job.state === "failed") throw new Error(`the build of ${network} failed: ${job.error}\n${user.sessiond.output().slice(-2000)}`);
      return job.state === "succeeded" ? true : undefined;
    }, `${network}'s build and boot`, 300_000);
    await user.session.stop(network);
  };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    club = await createNetworkFlake();
    clubRevision = await club.commit(`club-${RUN}`, { flake: flakeFor("club"), files: { "configs.json": clubConfigs("/shared/club-docs") } });
    sneaky = await createNetworkFlake();
    stack = await startManagerStack({
      config: () => ({
        networks: {
          club: { label: "Club", workspaces: ["2:club"], colour: "#98c379", source: { flake: `${club.url}?ref=main`, attribute: "packages.x86_64-linux.club" } },
          sneaky: { label: "Sneaky", workspaces: ["3:sneaky"], colour: "#e06c75", source: { flake: `${sneaky.url}?ref=main`, attribute: "packages.x86_64-linux.sneaky" } },
        },
      }),
      session: () => ({ env: { NIX_CONFIG: TEST_NIX_CONFIG }, daemonsAsRoot: true }),
    });
    ({ sway, user, screen } = stack);
    // A file of the user's, in their home, that the sneaky network's configs.json points at: valid configs, so
    // only the symlink refusal can keep it off the screen.
    const secret = join(user.env.HOME!, "secret.json");
    await writeFile(secret, `{"sneaky": {"system": "x86_64-linux", "applications": {"syncthing": {"sharedFolders": ["/${MARKER}"]}}}}\n`);
    const { uid, gid } = await stat(user.env.HOME!);
    await chown(secret, uid, gid);
    await symlink(secret, join(sneaky.dir, "configs.json"));
    await sneaky.commit(`sneaky-${RUN}`, { flake: flakeFor("sneaky") });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    for (const dir of [club?.dir, sneaky?.dir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("before any build, says the network has no generation yet", async () => {
    await select("Club");
    await screen.waitFor("club's reason", (root) => (status(root).includes("club has no generation yet, so no configs.json was built to show") ? true : undefined), 60_000);
    expect(findAll(await screen.tree(), isListItem(SHARED_FOLDERS))).toEqual([]);
  }, 120_000);

  it("shows club's configs.json as built in generation 1, read-only, and keeps showing it after a newer commit", async () => {
    await build("club");
    const built = `shown as built in generation 1 (rev ${clubRevision.slice(0, 12)})`;
    const shows = (folder: string) => (root: AccessibleNode) =>
      status(root).includes(built) && screen.rowTexts(root, SHARED_FOLDERS)?.includes(folder) ? root : undefined;
    // Away and back: the page reads the network again.
    await select("Sneaky");
    await select("Club");
    const page = await screen.waitFor("club's built configs.json, read-only", shows("/shared/club-docs"), 60_000);
    expect(status(page)).toContain(`joined: its admins keep this in ${club.url}?ref=main`);
    expect(screen.rowTexts(page, SYNCTHING_ENABLE)).toContain("no");
    expect(screen.rowTexts(page, NETWORK_LAYER)).toContain("none");
    expect(findAll(page, isButton("Save and rebuild"))).toEqual([]);
    // Values are labels, nothing to toggle or type into.
    expect(findAll(page, (node) => node.role === "check box" && node.name === "")).toEqual([]);
    expect(findAll(page, (node) => node.role === "text")).toEqual([]);
    const read = await user.session.networkApplications("club");
    expect(read).toMatchObject({ editable: false, configs: clubConfigs("/shared/club-docs"), path: expect.stringMatching(/^\/nix\/store\/[0-9a-z]{32}-source\/configs\.json$/) });
    await expect(user.session.setNetworkApplications("club", read.configs, read.revision)).rejects.toThrow(/^configs\.json not saved: /);
    // A keyboard user reaches the values: from the detail's first row, Tab moves the focus down to them (the
    // labels are selectable, so focusable) and the page scrolls along.
    await screen.clickOn(await screen.waitFor("club's VM state row", (root) => findAll(root, isListItem("VM state"))[0]));
    await screen.tabIntoView("the Shared folders row", (root) => findAll(root, isListItem(SHARED_FOLDERS))[0]);
    await screenshot("applications-joined.png");

    // The admins move on; nothing is built. Then the store copy recorded by the build is forgotten: the pinned
    // revision is fetched again, not the branch.
    await club.commit(`club-newer-${RUN}`, { flake: flakeFor("club"), files: { "configs.json": clubConfigs("/shared/newer") } });
    const revisionsFile = `${profileOf("club")}.revisions.json`;
    const revisions = JSON.parse(await readFile(revisionsFile, "utf8")) as Record<string, { sourcePath?: string }>;
    expect(Object.values(revisions).map((record) => record.sourcePath)).toEqual([read.path.replace(/\/configs\.json$/, "")]);
    for (const record of Object.values(revisions)) delete record.sourcePath;
    await writeFile(revisionsFile, JSON.stringify(revisions));
    await select("Sneaky");
    await select("Club");
    const again = await screen.waitFor("club's built configs.json after the newer commit", shows("/shared/club-docs"), 120_000);
    expect(texts(again)).not.toContain("/shared/newer");
    expect((await user.session.networkApplications("club")).configs).toBe(clubConfigs("/shared/club-docs"));
  }, 480_000);

  it("the attacker's configs.json, a symlink to the user's file, is not shown, and the page says why", async () => {
    await build("sneaky");
    await select("Club");
    await select("Sneaky");
    const page = await screen.waitFor("sneaky's refusal", (root) => (status(root).includes("is a symlink") ? root : undefined), 60_000);
    expect(status(page)).toMatch(/joined: its admins keep this in .*; configs\.json of generation 1 \(rev [0-9a-f]{12}\) is not shown: \/nix\/store\/[0-9a-z]{32}-source\/configs\.json is a symlink/);
    expect(everyName(page).filter((name) => name.includes(MARKER))).toEqual([]);
    expect(findAll(page, isListItem(SHARED_FOLDERS))).toEqual([]);
    expect(findAll(page, isButton("Save and rebuild"))).toEqual([]);
    const read = await user.session.networkApplications("sneaky");
    expect(read).toMatchObject({ editable: false, configs: "", revision: "" });
    expect(JSON.stringify(read)).not.toContain(MARKER);
    await screenshot("applications-joined-symlink.png");
  }, 480_000);
});
