import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findAll, findOne, texts, type AccessibilityBus, type AccessibleNode } from "../helpers/accessibility.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startGitHttpsServer, type GitHttpsServer } from "../helpers/git-https-server.js";
import { createNetworkFlake, FLAKE, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, pidsWithArguments, skipReason } from "../helpers/processes.js";
import { swayScreenshot } from "../helpers/screenshot.js";
import type { HeadlessSway } from "../helpers/sway.js";
import type { SessionUser, UserSession } from "../helpers/user-session.js";
import { APP, beforeDeadline, isButton, isListItem, managerWindows, type ManagerScreen } from "./manager-screen.js";
import { startManagerStack, type ManagerStack } from "./manager-stack.js";

// A join through the manager window, end to end: a network's flake served over git+https on loopback, the links
// opened as a browser opens them (`gio open clan://…` with the link handler's desktop file the default for clan:
// links), each shown on the join page of the window already open, the clan-manager gio started ending once it has
// handed its link over; Fetch (pressed through AT-SPI) fetches the source as the desktop user (its
// Nix through a nix-daemon, as on a multi-user Nix), the second question shows what the network asks for, and only
// Join and build registers it and has clan-sessiond (root on the user's bus: this machine's store needs root to
// build) build it with the real Nix and boot it in QEMU; the network then appears in the list.
// The attacker's variant: a flake whose vm.json asks for the user's home, read-write. The second question shows
// that share; joined anyway, the generation is built but clan-vmd refuses to boot it (not granted), and the
// window says so.
// Every wait is bounded well inside its test's limit and names what it waited for and what the window showed; a
// step that fails on screen (Fetch failed, Join failed) ends its wait at once.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["sway", "grim", "gio", "qemu-system-x86_64", "dbus-daemon", "setpriv", "nix", "nix-daemon", "git", "openssl", ATSPI_LAUNCHER];
const isRoot = process.getuid?.() === 0;
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason || (isRoot ? "" : " (needs root for the Nix store)");
const OUTPUT = join(REPO, "test-output", "manager");
/** Unique per run: a generation Nix already has would not be built again. */
const RUN = `${Date.now().toString(36)}-${process.pid}`;

describe.skipIf(skip !== "")(`clan-manager: a clicked link joined through the window, end to end${skip}`, () => {
  let sway: HeadlessSway;
  let owner: SessionUser;
  let user: UserSession;
  let a11y: AccessibilityBus;
  let screen: ManagerScreen;
  let stack: ManagerStack;
  let https: GitHttpsServer;
  let nixDaemon: ChildProcess;
  let work: string;
  let club: NetworkFlake;
  let hostile: NetworkFlake;
  let clubRevision: string;
  let forwardPort: number;
  let clubUrl: string;
  let hostileUrl: string;
  const screenshot = (name: string) => swayScreenshot(sway.waylandDisplay, join(OUTPUT, name));
  const rows = (root: AccessibleNode, title: string) => findAll(root, (node) => node.role === "list item" && node.name === title).map((found) => texts(found.node).join(" "));
  const configText = () => readFile(user.configFile, "utf8");

  /** The clan-manager processes started with `--join` and `link`, which must hand it over and end. */
  const joinProcesses = (link: string) => pidsWithArguments((args) => args.some((arg) => arg.endsWith("clan-manager.js")) && args.includes("--join") && args.includes(link));
  /**
   * Opens `link` as a browser does: gio asks GIO for the default handler of clan: links and launches it. The
   * clan-manager it starts inherits gio's output, so gio's end is awaited until that one has ended too.
   */
  const openLink = async (link: string) => {
    const opened = user.spawn("gio", ["open", link]);
    await beforeDeadline(opened.process, Date.now() + 30_000, `gio open ${link} did not end within 30 s`).catch(async (error: Error) => {
      throw new Error(`${error.message}; still running with --join and the link: pids ${(await joinProcesses(link)).join(", ") || "none"}\n${opened.output()}`);
    });
    expect(opened.process.exitCode, opened.output()).toBe(0);
  };
  const expectNoJoinProcessLeft = async (link: string) => {
    let left: number[] = [];
    await waitUntil(async () => {
      left = await joinProcesses(link);
      return left.length === 0 ? true : undefined;
    }, "the clan-manager gio started to end", 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: pids ${left.join(", ")} still run with --join ${link}`);
    });
  };
  /** Fails the wait at once when the page says a step failed, instead of waiting out its bound. */
  const unlessFailed = (step: "Fetch failed" | "Join failed" | "Joined", root: AccessibleNode) => {
    if (rows(root, step).length > 0) throw new Error(`the page says ${step}:\n${texts(root).join("\n")}`);
  };
  /**
   * The page shows what `url`'s link says and Fetch may be pressed. Rows GTK has just added can be missing from
   * one read of the AT-SPI tree and there in the next: a wait is for every row the test then reads.
   */
  const showsLink = (url: string) => (root: AccessibleNode) =>
    rows(root, "Source").some((text) => text.includes(`git+${url}`)) &&
    ["From", "Revision", "Machine", "Warning"].every((title) => rows(root, title).length > 0) &&
    findAll(root, isButton("Fetch")).some((found) => found.node.states.includes("sensitive"))
      ? root
      : undefined;
  /** The second question with its rows: the link's and the fetched revision, `row`, and Join and build. */
  const asks = (row: string) => (root: AccessibleNode) => {
    unlessFailed("Fetch failed", root);
    return rows(root, row).length === 1 && rows(root, "Revision").length === 2 && findAll(root, isButton("Join and build")).length === 1 ? root : undefined;
  };
  /** Presses a button as a screen reader user does (an AT-SPI action): where it is on the page does not matter. */
  const press = (root: AccessibleNode, name: string) => beforeDeadline(a11y.act(APP, findOne(root, `the ${name} button`, isButton(name)), "click"), Date.now() + 30_000, `pressing ${name} did not answer within 30 s`);

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    work = await mkdtemp("/tmp/clan-managerjoin-");
    // The desktop user reaches the nix-daemon's socket in here.
    await chmod(work, 0o711);
    https = await startGitHttpsServer();
    // The user's Nix reaches the store through a nix-daemon of this test's own, on a socket no other test uses.
    const socket = join(work, "nix-daemon.socket");
    nixDaemon = spawn("nix-daemon", [], { env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socket, NIX_CONFIG: TEST_NIX_CONFIG }, stdio: "ignore" });
    await waitUntil(() => stat(socket).then((info) => (info.isSocket() ? true : undefined), () => undefined), "the nix-daemon's socket");
    forwardPort = await freePort();

    club = await createNetworkFlake();
    // The network's own vm.json, in the source, asks for a port forward; the build copies it into the generation.
    clubRevision = await club.commit(`club-${RUN}`, {
      flake: FLAKE.replace("./generation/vm.json", "./vm.json"),
      files: { "vm.json": `${JSON.stringify({ memoryMiB: 256, stateDiskMiB: 0, readyTimeoutSeconds: 90, network: { mode: "user", forwards: [{ hostPort: forwardPort, guestPort: 80 }] } })}\n` },
    });
    hostile = await createNetworkFlake();

    stack = await startManagerStack({
      config: async (sway, user) => {
        // git as the user must trust the server's certificate: a copy where the user can read it.
        const ca = join(sway.runtimeDir, "managerjoin-ca.pem");
        await copyFile(https.caFile, ca);
        await chown(ca, user.uid, user.gid);
        return { networks: {} };
      },
      session: (sway) => ({
        // Root's Nix caches apart from the user's: a root-owned file in the user's cache would stop the user's fetches.
        env: { NIX_CONFIG: TEST_NIX_CONFIG, GIT_SSL_CAINFO: join(sway.runtimeDir, "managerjoin-ca.pem"), XDG_CACHE_HOME: join(work, "root-cache") },
        daemonsAsRoot: true,
      }),
      managerEnv: (sway) => ({ NIX_REMOTE: `unix://${socket}`, XDG_CACHE_HOME: join(sway.runtimeDir, "cache") }),
    });
    ({ sway, owner, user, a11y, screen } = stack);
    await installLinkHandler(user.env.HOME!, owner);
    // The user's home, which the hostile network asks for: a directory of the user's with a file in it.
    await writeFile(join(user.env.HOME!, "secret.txt"), "the user's own file\n");
    await hostile.commit(`hostile-${RUN}`, {
      flake: FLAKE.replace("./generation/vm.json", "./vm.json"),
      files: { "vm.json": `${JSON.stringify({ memoryMiB: 256, stateDiskMiB: 0, readyTimeoutSeconds: 90, shares: [{ tag: "home", source: user.env.HOME! }] })}\n` },
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    nixDaemon?.kill();
    await https?.stop();
    for (const dir of [club?.dir, hostile?.dir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gio open of two links while the window is open shows each in that window, leaves no clan-manager behind and fetches nothing", async () => {
    await screen.waitFor("the window", (root) => (findAll(root, isButton("Join a network")).length === 1 ? true : undefined), 60_000);
    hostileUrl = await https.publish(hostile.dir, "hostile");
    clubUrl = await https.publish(club.dir, "club");
    for (const url of [hostileUrl, clubUrl]) {
      const link = `clan://git+${url}?ref=main#default`;
      await openLink(link);
      const page = await screen.waitFor(`the join page showing ${link}`, showsLink(url), 60_000);
      expect(rows(page, "Revision").join()).toContain("the newest commit of main");
      expect(rows(page, "From").join()).toContain("127.0.0.1");
      expect(rows(page, "Warning").join()).toContain("the host 127.0.0.1 is this computer (loopback)");
      // The second clan-manager handed the link to the open one and ended: still one window, and no process of it.
      const tree = JSON.parse((await execa("swaymsg", ["-s", sway.socketPath, "-t", "get_tree", "-r"])).stdout);
      expect(managerWindows(tree)).toHaveLength(1);
      await expectNoJoinProcessLeft(link);
    }
    expect(https.requests).toEqual([]);
    await screenshot("join-opened-link.png");
  }, 420_000);

  it("Fetch shows what the network asks for, registering nothing; Join and build joins it and it appears in the list", async () => {
    const configBefore = await configText();
    await press(await screen.waitFor("the club link on the page, Fetch sensitive", showsLink(clubUrl)), "Fetch");
    const asked = await screen.waitFor("the second question", asks("Forward"), 120_000);
    expect(https.requests.length).toBeGreaterThan(0);
    expect(rows(asked, "Revision").join()).toContain(clubRevision);
    expect(rows(asked, "Forward")).toEqual([expect.stringContaining(`host port ${forwardPort} to guest port 80`)]);
    expect(rows(asked, "Network mode").join()).toContain("user (as the flake's vm.json asks)");
    expect(rows(asked, "Machine").join()).toContain("default, builds packages.x86_64-linux.default");
    // Nothing registered, nothing built, until the second button.
    expect(await configText()).toBe(configBefore);
    expect(await user.session.listNetworks()).toEqual([]);
    await screenshot("join-second-question.png");

    await press(asked, "Join and build");
    const joined = await screen.waitFor("the join done", (root) => (unlessFailed("Join failed", root), rows(root, "Joined").length === 1 ? root : undefined), 300_000);
    expect(rows(joined, "Joined").join()).toContain("generation 1 is running");
    await screen.waitFor("club in the networks list", (root) => (findAll(root, isListItem("club")).length === 1 ? true : undefined));
    const generation = (await user.session.generations("club")).find((g) => g.current);
    expect(generation).toMatchObject({ number: 1, revision: clubRevision });
    expect(JSON.parse(await configText()).networks.club.source).toEqual({ flake: `git+https://127.0.0.1:${https.port}/club.git?ref=main`, attribute: "packages.x86_64-linux.default" });
    await screenshot("join-joined.png");
    // Its VM is stopped so that the next build has the machine's cores.
    await user.session.stop("club");
  }, 720_000);

  it("a hostile flake's share of the user's home is shown at the second question, and its generation is refused at boot", async () => {
    const link = `clan://git+${hostileUrl}?ref=main#default`;
    await openLink(link);
    const shown = await screen.waitFor("the hostile link on the page, Fetch sensitive", showsLink(hostileUrl), 60_000);
    await expectNoJoinProcessLeft(link);
    await press(shown, "Fetch");
    const asked = await screen.waitFor("the hostile network's share", asks("Share"), 120_000);
    expect(rows(asked, "Share")).toEqual([expect.stringContaining(`${user.env.HOME} (read-write, tag home): the VM boots only if your config grants it`)]);
    await screenshot("join-hostile-share.png");

    await press(asked, "Join and build");
    const failed = await screen.waitFor("the refused boot", (root) => (unlessFailed("Joined", root), rows(root, "Join failed").length === 1 ? root : undefined), 300_000);
    expect(texts(failed).join("\n")).toContain(`share "home" of ${user.env.HOME} is not granted`);
    expect((await user.session.getNetwork("hostile")).vmState).not.toBe("running");
    await screenshot("join-hostile-refused.png");
  }, 720_000);
});

/** The link handler's desktop file as the user's default for clan: links, its Exec= this checkout's clan-manager. */
async function installLinkHandler(home: string, owner: SessionUser): Promise<void> {
  const desktop = await readFile(join(REPO, "share", "applications", "clan-desktop-join.desktop"), "utf8");
  expect(desktop).toMatch(/^Exec=clan-manager --join %u$/m);
  const applications = join(home, ".local", "share", "applications");
  const config = join(home, ".config");
  for (const dir of [join(home, ".local"), join(home, ".local", "share"), applications, config]) {
    await mkdir(dir, { recursive: true });
    await chown(dir, owner.uid, owner.gid);
  }
  const files = {
    [join(applications, "clan-desktop-join.desktop")]: desktop.replace(/^Exec=clan-manager /m, `Exec=${process.execPath} ${join(REPO, "bin", "clan-manager.js")} `),
    [join(config, "mimeapps.list")]: "[Default Applications]\nx-scheme-handler/clan=clan-desktop-join.desktop\nx-scheme-handler/nix=clan-desktop-join.desktop\n",
  };
  for (const [file, text] of Object.entries(files)) {
    await writeFile(file, text);
    await chown(file, owner.uid, owner.gid);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
