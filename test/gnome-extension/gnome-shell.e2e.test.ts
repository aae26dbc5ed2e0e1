import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGnomeExtension, UUID } from "../../scripts/build-gnome-extension.js";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startGnomeSessionStack, type GnomeSessionStack, type MenuReadback, type ShellFingerprint } from "../helpers/gnome-session-stack.js";
import { flavourForShell, installedShellMajor } from "../helpers/gnome-probe.js";
import { startHeadlessGnome, type HeadlessGnome } from "../helpers/gnome-shell.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels } from "../helpers/screenshot.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The extension's zip for the installed GNOME Shell — the 43–44 build in GNOME Shell 43 (Debian 12), the 45+ ES-module
// build in GNOME Shell 48 (the Debian 13 lane, scripts/trixie/) — installed with `gnome-extensions install` into the
// real shell running headless on a 1280×600 screen with GNOME's default settings (dynamic workspaces), with the real
// clan-sessiond (--backend none) and clan-vmd on the shell's session bus booting the test guest. The probe extension
// (test/gnome-extension/probe) reads the menu back from inside the shell, clicks its items and switches workspaces.

const SHELL_MAJOR = installedShellMajor();
/** clan-manager's GApplication id, its Wayland app_id, which GNOME gives as the window's class. */
const MANAGER_APP_ID = "org.clan.Desktop.Manager";
const nodeGtkMissing = await import("node-gtk").then(
  () => false,
  () => true,
);
const SCREENSHOT = join(REPO, ".cache/test-output/gnome-shell/menu.png");

const texts = (menu: MenuReadback) => (menu.items ?? []).map((item) => item.text);
/** The network's title row; its workspace number moves as GNOME adds and removes workspaces. */
const titleOf = (menu: MenuReadback, network: string) => item(menu, `clan-network-${network}`)?.text ?? "";
const item = (menu: MenuReadback, name: string) => (menu.items ?? []).find((entry) => entry.name === name);

describe.skipIf(!hasBinary("gnome-shell"))(`the extension in GNOME Shell ${SHELL_MAJOR ?? ""}${skipReason("gnome-shell")}`, () => {
  let gnome: HeadlessGnome;
  let stack: GnomeSessionStack;
  let baseline: ShellFingerprint;
  let config: ConfigInput;

  beforeAll(async () => {
    const zips = buildGnomeExtension();
    gnome = await startHeadlessGnome({ extensions: [zips[flavourForShell(SHELL_MAJOR!)]], enabled: [], probe: true, monitor: "1280x600" });
    const generations = join(gnome.root, "generations");
    const profile = async (name: string) => ({ profile: await makeGeneration(join(generations, name), { generation: `${name}-1` }) });
    config = {
      networks: {
        family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: await profile("family") },
        club: { workspaces: ["3:club", "club-lounge"], colour: "#b5462f", source: await profile("club") },
        // A backup that fails at once: its password command fails.
        work: {
          label: "Work",
          workspaces: ["4:work"],
          colour: "#3a944a",
          source: await profile("work"),
          backup: { repository: join(gnome.root, "work-backups"), password: { command: ["false"] } },
        },
        school: { label: "School", workspaces: ["5:school"], colour: "#9141ac", source: await profile("school") },
      },
      switchDebounceMs: 100,
    };
    stack = await startGnomeSessionStack(gnome, config);
    // The probe is the only extension so far: this is the shell without clan-desktop.
    baseline = await stack.probe.fingerprint();
    const enabled = await gnome.runAsUser("gnome-extensions", ["enable", UUID]);
    expect(enabled.exitCode, enabled.all).toBe(0);
  });

  afterAll(async () => {
    if (process.env["CLAN_TEST_VERBOSE"]) {
      console.log(`--- gnome-shell\n${gnome?.log().slice(-6000)}\n--- clan-sessiond\n${stack?.sessiond.output().slice(-4000)}`);
    }
    await stack?.stop();
    await gnome?.stop();
  });

  it("shows every network's state in the top panel menu, read back from inside the shell", async () => {
    const menu = await stack.probe.waitForMenu((m) => texts(m).some((text) => text.startsWith("Family")), "the networks in the menu");
    // "club-lounge" has no GNOME workspace: a notice in the menu, not a warning icon (it may be meant for sway).
    // Work's backup fails (its password command fails): that is the icon's state.
    const failedBackup = await stack.probe.waitForMenu((m) => m.iconName === "dialog-error-symbolic", "work's failed backup on the icon");
    expect(texts(failedBackup)[0]).toBe("Work: backup failed");
    expect(texts(menu)).toEqual(
      expect.arrayContaining([
        'club: workspace "club-lounge" has no number, so no GNOME workspace',
        "VM: stopped",
        "Backup: not configured",
        "Switch to Family",
      ]),
    );
    expect(titleOf(menu, "family")).toMatch(/^Family · workspace \d+$/);
    expect(item(menu, "clan-network-family")?.status).toBe("stopped");
    // A stopped VM runs no generation: no "Generation: none".
    expect(texts(menu).filter((text) => text.startsWith("Generation"))).toEqual([]);
    // Each title's dot is in the network's colour, fully opaque, as the shell's theme computed it.
    expect(item(menu, "clan-network-family")?.dotColour).toBe("#2e7dbfff");
    expect(item(menu, "clan-network-club")?.dotColour).toBe("#b5462fff");
    // No action that cannot work is offered: every network boots a fixed profile with one generation and has no
    // backup; each such item is insensitive and says why.
    const settled = await stack.probe.waitForMenu((m) => item(m, "clan-action-family-rollback")?.sensitive === false, "roll back to be refused");
    expect(item(settled, "clan-action-family-rebuild")).toMatchObject({ text: "Rebuild (it boots a fixed profile: rebuilding needs a flake source)", sensitive: false });
    expect(item(settled, "clan-action-family-rollback")).toMatchObject({ text: "Roll back to the previous generation (there is no previous generation)", sensitive: false });
    expect(item(settled, "clan-action-family-backup")).toMatchObject({ text: "Back up now (no backup is configured)", sensitive: false });
    expect(item(settled, "clan-action-family-stop")).toMatchObject({ sensitive: false });
  });

  it("fits a 1280×600 screen with four networks: one collapsed row each, details in the network's submenu", async () => {
    await stack.probe.openMenu(true);
    const collapsed = await stack.probe.menuSize();
    expect(collapsed.monitorHeight).toBe(600);
    const room = collapsed.monitorHeight - collapsed.panelHeight;
    expect(collapsed.naturalHeight).toBeLessThanOrEqual(room);
    await stack.probe.openSubmenu("clan-network-family");
    const expanded = await waitUntil(async () => {
      const size = await stack.probe.menuSize();
      return size.naturalHeight > collapsed.naturalHeight ? size : undefined;
    }, "the family submenu to open");
    expect(expanded.naturalHeight).toBeLessThanOrEqual(room);
    await mkdir(join(SCREENSHOT, ".."), { recursive: true });
    const shot = join(gnome.root, "menu.png");
    await stack.probe.screenshot(shot);
    const open = await stack.probe.menu();
    await copyFile(shot, SCREENSHOT);
    await stack.probe.openMenu(false);
    // And drawn so: where the shell placed each title's dot, the screenshot has a dot's worth of its colour (GNOME
    // Shell 48 draws it up to two steps off in a channel).
    const dots = [["family", "#2e7dbf"], ["club", "#b5462f"], ["work", "#3a944a"], ["school", "#9141ac"]] as const;
    for (const [network, colour] of dots) {
      const box = item(open, `clan-network-${network}`)?.dotBox;
      expect(box, network).toBeDefined();
      expect(await countPixels(shot, box!, colour, 2), `${network}'s dot at ${JSON.stringify(box)}`).toBeGreaterThan(40);
    }
  });

  it("enters the network it names, with GNOME's dynamic workspaces, and keeps an empty network workspace alive", async () => {
    await stack.probe.activateItem("clan-action-family-switch");
    const family = await stack.waitForNetwork("family", (s) => s.vmState === "running" && s.focused);
    expect(family.focused).toBe(true);
    const menu = await stack.probe.waitForMenu((m) => titleOf(m, "family").endsWith("· focused") && texts(m).includes("VM: running"), "Family running and focused");
    expect(item(menu, "clan-action-family-stop")).toMatchObject({ sensitive: true });
    expect(menu.count).toBe("1/4");
    const before = await stack.probe.workspaces();

    // Leave for the workspace GNOME keeps empty at the end: family's workspace is now empty (its VM shows no
    // window) and not active, which GNOME's dynamic workspaces remove unless something keeps it.
    await stack.probe.activateWorkspace(-1);
    await stack.waitForNetwork("family", (s) => s.vmState === "paused" && !s.focused);
    // GNOME checks its workspaces before the next frame after a switch; the pause took far longer. None went.
    expect((await stack.probe.workspaces()).count).toBe(before.count);
    await stack.probe.waitForMenu((m) => !titleOf(m, "family").endsWith("focused"), "family no longer focused");

    await stack.probe.activateItem("clan-action-club-switch");
    const club = await stack.waitForNetwork("club", (s) => s.focused && s.vmState === "running", 90_000);
    expect(club.focused).toBe(true);
    expect((await stack.session.getNetwork("family")).focused).toBe(false);
    await stack.probe.activateItem("clan-action-school-switch");
    await stack.waitForNetwork("school", (s) => s.focused);
    await stack.probe.activateItem("clan-action-family-switch");
    await stack.waitForNetwork("family", (s) => s.focused && s.vmState === "running", 90_000);
    expect((await stack.session.getNetwork("school")).focused).toBe(false);
    // School's VM need not stay up for this test.
    await stack.session.stop("school");
  }, 240_000);

  it("keeps a failure notice in GNOME's notification list after its banner", async () => {
    const configFile = join(gnome.root, "config.json");
    await writeFile(configFile, JSON.stringify({ ...config, networks: { ...config.networks, family: { ...config.networks["family"], colour: "blue" } } }));
    await stack.session.reloadConfig().catch(() => undefined);
    const rejected = (notification: { title: string }) => notification.title === "clan-desktop: config rejected";
    await waitUntil(async () => ((await stack.probe.notifications()).some(rejected) ? true : undefined), "the config-rejected notification");
    // The banner ends (as its timeout ends it once the user is active): a transient notification would go with it.
    await waitUntil(async () => ((await stack.probe.expireBanner()) ? undefined : true), "the banners to end");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const kept = (await stack.probe.notifications()).filter(rejected);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ source: "clan-desktop", transient: false });
    expect(kept[0]!.body).toMatch(/^The last good config stays in force\. .*colour/);
    await writeFile(configFile, JSON.stringify(config, null, 2));
    await stack.session.reloadConfig();
  });

  it("leaves a failed backup's notification to clan-sessiond, which gives the backup's error", async () => {
    // Work's first backup was due when clan-sessiond saw its config, and failed at once.
    const failed = await stack.waitForNetwork("work", (s) => s.backupState === "failed" && s.backupError !== "");
    const aboutBackup = (notification: { title: string }) => /backup failed/i.test(notification.title);
    await waitUntil(async () => ((await stack.probe.notifications()).some(aboutBackup) ? true : undefined), "the backup-failed notification");
    // The extension saw the same failure in work's status long ago (the menu says so): it added no notice of its own.
    await stack.probe.waitForMenu((m) => item(m, "clan-network-work")?.status === "backup failed", "work's failed backup in the menu");
    const shown = (await stack.probe.notifications()).filter(aboutBackup);
    expect(shown.length).toBeGreaterThanOrEqual(1);
    for (const notification of shown) {
      // clan-sessiond's title; the extension's own notice would read "Work: the backup failed".
      expect(notification).toMatchObject({ title: "work: backup failed" });
      expect(notification.body).toContain(failed.backupError.slice(0, 40));
    }
    expect(item(await stack.probe.menu(), "clan-action-work-backup")).toMatchObject({ text: "Back up now", sensitive: true });

    // "Back up now" in work's submenu starts a backup job (StartBackup, answered at once with the job's id); the job
    // fails as the scheduled one did, and again only clan-sessiond tells of it.
    const clicked = Date.now();
    await stack.probe.activateItem("clan-action-work-backup");
    const job = await waitUntil(async () => {
      const jobs = await stack.session.jobs();
      return jobs.find((entry) => entry.kind === "backup" && entry.network === "work" && entry.startedAt >= clicked - 1000 && entry.state === "failed");
    }, "the backup job started from the menu to fail");
    expect(job.error).not.toBe("");
    // Nothing about work but clan-sessiond's own notices: the extension's would be "work: back up now failed" (a
    // refused call) or "Work: …".
    const aboutWork = (await stack.probe.notifications()).filter((notification) => /^work:/i.test(notification.title));
    expect(new Set(aboutWork.map((notification) => notification.title))).toEqual(new Set(["work: backup failed"]));
  });

  it("says clan-sessiond is not running while it is gone, and reconnects and re-reports focus when it returns", async () => {
    await stack.probe.activateItem("clan-action-club-switch");
    await stack.waitForNetwork("club", (s) => s.focused && s.vmState === "running", 90_000);
    await stack.stopSessiond();
    const offline = await stack.probe.waitForMenu((m) => texts(m)[0] === "clan-sessiond is not running", "the offline menu");
    expect(offline.iconName).toBe("network-vpn-disabled-symbolic");
    await stack.startSessiond();
    await stack.probe.waitForMenu((m) => titleOf(m, "club").endsWith("· focused"), "the menu after reconnecting");
    expect((await stack.session.getNetwork("club")).focused).toBe(true);
  });

  it("shows what a network's generation asks of this host: network mode, shares (granted or not), forwards", async () => {
    const hostPort = 20000 + (process.pid % 20000);
    const keys = join(gnome.root, "home-of-user", ".ssh");
    const guests = await makeGeneration(join(gnome.root, "generations", "guests"), {
      generation: "guests-1",
      vm: { shares: [{ tag: "ssh", source: keys, readOnly: true }], network: { mode: "user", forwards: [{ hostPort, guestPort: 80 }] } },
    });
    const withGuests: ConfigInput = { ...config, networks: { ...config.networks, guests: { workspaces: ["6:guests"], colour: "#55aa33", source: { profile: guests } } } };
    await writeFile(join(gnome.root, "config.json"), JSON.stringify(withGuests, null, 2));
    const shareLine = `Share ssh: ${keys} (read-only, not granted: will not start)`;
    const menu = await stack.probe.waitForMenu((m) => texts(m).includes(shareLine), "the guests network's share in the menu");
    // The title, then its submenu's rows (the probe lists them after it).
    const section = texts(menu).slice((menu.items ?? []).findIndex((entry) => entry.name === "clan-network-guests"));
    expect(section[0]).toMatch(/^guests · workspace( \d+| made on entry)$/);
    expect(section.slice(1, section.indexOf("Switch to guests"))).toEqual([
      "VM: stopped",
      "Backup: not configured",
      "Network: user",
      shareLine,
      `Forward: host port ${hostPort} → guest port 80`,
    ]);
  });

  it.skipIf(nodeGtkMissing)("Open manager launches Clan Manager through its desktop file, and its window opens in the shell", async () => {
    expect(item(await stack.probe.menu(), "clan-open-manager")).toMatchObject({ text: "Open manager", sensitive: true });
    // The package's desktop file, its Exec= pointed at this checkout, where GNOME looks for the user's applications.
    const applications = join(gnome.home, ".local/share/applications");
    await mkdir(applications, { recursive: true });
    const desktopFile = (await readFile(join(REPO, "share/applications/clan-manager.desktop"), "utf8")).replace(
      /^Exec=clan-manager$/m,
      `Exec=${process.execPath} ${join(REPO, "bin/clan-manager.js")}`,
    );
    expect(desktopFile).toContain(join(REPO, "bin/clan-manager.js"));
    await writeFile(join(applications, "clan-manager.desktop"), desktopFile);
    const managerWindow = async () => (await stack.probe.windows()).find((window) => window.wmClass === MANAGER_APP_ID && window.width > 0);
    // GNOME notices a new desktop file through a file monitor: the item is clicked again until the app is known
    // (clan-manager is one instance per session, so a second launch only presents the first one's window).
    const shown = await waitUntil(async () => {
      await stack.probe.activateItem("clan-open-manager");
      return waitUntil(managerWindow, "the manager's window", 5_000).catch(() => undefined);
    }, "Open manager to open the Clan Manager window", 90_000);
    expect(shown.title).toBe("Clan Manager");
    process.kill(shown.pid, "SIGTERM");
    await waitUntil(async () => ((await managerWindow()) ? undefined : true), "the manager's window to close", 30_000);
  }, 120_000);

  it("enable → disable → enable leaves nothing behind", async () => {
    const disable = () => gnome.runAsUser("gnome-extensions", ["disable", UUID]);
    const enable = () => gnome.runAsUser("gnome-extensions", ["enable", UUID]);
    const enabledOnce = await stack.probe.fingerprint();
    expect(enabledOnce.statusArea).toContain(UUID);
    expect(enabledOnce.keybindings).toEqual(["rebuild-focused-network", "rollback-focused-network"]);
    expect(enabledOnce.activeWorkspaceHandlers).toBe(baseline.activeWorkspaceHandlers + 1);
    expect(enabledOnce.windowCreatedHandlers).toBe(baseline.windowCreatedHandlers + 1);
    expect(enabledOnce.matchRules.length).toBeGreaterThan(baseline.matchRules.length);

    expect((await disable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => !m.present, "the indicator to go");
    // Including the dconf watch of the extension's own settings, at once: the fingerprint collects garbage, and
    // nothing may still reach the settings then. (GJS's JIT keeps the last closure a call site called for seconds
    // after disable(), the menu's open handler among them: a settings object reachable from the extension's
    // closures would outlive disable() that long. The network submenus and notifications above call them.)
    expect(await stack.probe.fingerprint()).toEqual(baseline);

    expect((await enable()).exitCode).toBe(0);
    // The network keeps its workspace across disable() (a screen lock disables extensions): club stays focused.
    await stack.probe.waitForMenu((m) => titleOf(m, "club").endsWith("· focused"), "the menu after enabling again");
    expect((await stack.session.getNetwork("club")).focused).toBe(true);
    expect(await stack.probe.fingerprint()).toEqual(enabledOnce);

    expect((await disable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => !m.present, "the indicator to go again");
    // Nor after a second cycle.
    expect(await stack.probe.fingerprint()).toEqual(baseline);
    expect(gnome.log()).not.toMatch(/JS ERROR|clan-desktop: cannot undo/);
    await enable();
  });
});
