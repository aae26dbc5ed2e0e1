import { randomBytes } from "node:crypto";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGnomeExtension, UUID } from "../../scripts/build-gnome-extension.js";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { escapeMarkup } from "../../src/session/notifications.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startGnomeSessionStack, type GnomeSessionStack, type MenuReadback, type ShellFingerprint } from "../helpers/gnome-session-stack.js";
import { startHeadlessGnome, type HeadlessGnome } from "../helpers/gnome-shell.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels } from "../helpers/screenshot.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The GNOME 42–44 zip, installed with `gnome-extensions install` into a real headless GNOME Shell 43, with the
// real clan-sessiond (--backend none) and clan-vmd on the shell's session bus booting the test guest. The probe
// extension (test/gnome-extension/probe) reads the menu back from inside the shell and switches workspaces.

const PROBE_UUID = "clan-probe@test.clan.lol";
const SCREENSHOT = join(REPO, ".cache/test-output/gnome-shell/menu.png");

const texts = (menu: MenuReadback) => (menu.items ?? []).map((item) => item.text);
const item = (menu: MenuReadback, name: string) => (menu.items ?? []).find((entry) => entry.name === name);

describe.skipIf(!hasBinary("gnome-shell") || !hasBinary("restic"))(`the extension in GNOME Shell 43${skipReason("gnome-shell", "restic")}`, () => {
  let gnome: HeadlessGnome;
  let stack: GnomeSessionStack;
  let baseline: ShellFingerprint;
  let config: ConfigInput;

  beforeAll(async () => {
    const zips = buildGnomeExtension();
    gnome = await startHeadlessGnome({ extensions: [zips.legacy, join(REPO, "test/gnome-extension/probe")], enabled: [PROBE_UUID] });
    const generations = join(gnome.root, "generations");
    config = {
      networks: {
        family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: await makeGeneration(join(generations, "family"), { generation: "family-1" }) } },
        club: { workspaces: ["3:club", "club-lounge"], colour: "#b5462f", source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1" }) } },
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
    expect(menu.iconName).toBe("network-vpn-symbolic");
    expect(texts(menu)).toEqual(
      expect.arrayContaining([
        "2 networks, 0 running",
        'club: workspace "club-lounge" has no number, so no GNOME workspace',
        "club · workspace 3",
        "Family · workspace 2",
        "VM: stopped",
        "Backup: no backup information",
        "Switch to Family",
      ]),
    );
    // Each title's dot is in the network's colour, fully opaque, as the shell's theme computed it.
    expect(item(menu, "clan-network-family")?.dotColour).toBe("#2e7dbfff");
    expect(item(menu, "clan-network-club")?.dotColour).toBe("#b5462fff");
    // Each action is sensitive exactly when this clan-sessiond's introspection lists its method (the Start* job
    // methods arrived with a later version); otherwise it says which method it needs.
    const manager = (await stack.bus.getProxyObject("org.clan.Desktop.Session1", "/org/clan/Desktop/Session1")).getInterface("org.clan.Desktop.Session1.Manager");
    for (const [action, method, label] of [["rebuild", "StartRebuild", "Rebuild"], ["rollback", "StartRollback", "Roll back to the previous generation"], ["backup", "StartBackup", "Back up now"]] as const) {
      const offered = typeof (manager as unknown as Record<string, unknown>)[method] === "function";
      expect(item(menu, `clan-action-family-${action}`), method).toMatchObject(
        offered ? { text: label, sensitive: true } : { text: `${label} (needs a clan-sessiond with ${method})`, sensitive: false },
      );
    }
    expect(item(menu, "clan-action-family-stop")).toMatchObject({ sensitive: false });
  });

  it("starts a network's VM when its GNOME workspace is activated inside the shell, and pauses it on leaving", async () => {
    await stack.probe.activateWorkspace(1);
    const family = await stack.waitForNetwork("family", (s) => s.vmState === "running");
    expect(family.focused).toBe(true);
    const menu = await stack.probe.waitForMenu((m) => texts(m).includes("Family · workspace 2 · focused") && texts(m).includes("VM: running"), "Family running and focused");
    expect(item(menu, "clan-action-family-stop")).toMatchObject({ sensitive: true });
    expect(menu.count).toBe("1/2");

    await stack.probe.openMenu(true);
    await mkdir(join(SCREENSHOT, ".."), { recursive: true });
    const shot = join(gnome.root, "menu.png");
    await stack.probe.screenshot(shot);
    await copyFile(shot, SCREENSHOT);
    await stack.probe.openMenu(false);
    // And drawn so: the strip of the menu where the titles start has a dot's worth of each network's colour.
    const titleStarts = { x: 700, y: 40, width: 60, height: 760 };
    expect(await countPixels(shot, titleStarts, "#2e7dbf", 1)).toBeGreaterThan(40);
    expect(await countPixels(shot, titleStarts, "#b5462f", 1)).toBeGreaterThan(40);

    await stack.probe.activateWorkspace(0);
    await stack.waitForNetwork("family", (s) => s.vmState === "paused" && !s.focused);
  });

  it("says clan-sessiond is not running while it is gone, and reconnects and re-reports focus when it returns", async () => {
    await stack.probe.activateWorkspace(2);
    await stack.waitForNetwork("club", (s) => s.focused && s.vmState === "running");
    await stack.stopSessiond();
    const offline = await stack.probe.waitForMenu((m) => texts(m)[0] === "clan-sessiond is not running", "the offline menu");
    expect(offline.iconName).toBe("network-vpn-disabled-symbolic");
    await stack.startSessiond();
    await stack.probe.waitForMenu((m) => texts(m).includes("club · workspace 3 · focused"), "the menu after reconnecting");
    expect((await stack.session.getNetwork("club")).focused).toBe(true);
  });

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
    const disabledOnce = await stack.probe.fingerprint();
    // Including the dconf watch of the extension's own settings: its Gio.Settings is released once collected.
    expect(disabledOnce).toEqual(baseline);

    expect((await enable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => texts(m).includes("club · workspace 3 · focused"), "the menu after enabling again");
    expect(await stack.probe.fingerprint()).toEqual(enabledOnce);

    expect((await disable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => !m.present, "the indicator to go again");
    // Nor after a second cycle.
    expect(await stack.probe.fingerprint()).toEqual(baseline);
    expect(gnome.log()).not.toMatch(/JS ERROR|clan-desktop: cannot undo/);
    await enable();
  });


  it("the menu's \"Back up now\" starts a job whose progress the menu shows, and its outcome is one notification with the right error", async () => {
    // Last: the notifications it sends make the shell watch clan-sessiond's name, which the fingerprints of the
    // enable/disable test would count. That test leaves the extension enabled, unless it failed half-way.
    if (!(await stack.probe.menu()).present) await gnome.runAsUser("gnome-extensions", ["enable", UUID]);
    await stack.probe.waitForMenu((m) => texts(m).some((text) => text.startsWith("Family")), "the extension's menu");
    // family runs, and backs up with a pre-backup hook that works in the guest for a while, as a dump would.
    await stack.probe.activateWorkspace(1);
    await stack.waitForNetwork("family", (s) => s.vmState === "running", 120_000);
    const repository = join(gnome.root, "repository");
    const passwordFile = join(gnome.root, "restic-password");
    await writeFile(passwordFile, `pw-${randomBytes(9).toString("hex")}\n`, { mode: 0o600 });
    await execa("chown", [`${gnome.user.uid}:${gnome.user.gid}`, passwordFile]);
    const withBackup = async (preBackupHooks: string[][]) => {
      const family = { ...config.networks["family"]!, backup: { repository, password: { file: passwordFile }, preBackupHooks } };
      await writeFile(join(gnome.root, "config.json"), JSON.stringify({ ...config, networks: { ...config.networks, family } }), { mode: 0o644 });
      await stack.session.reloadConfig();
    };
    // The first backup is the scheduled one (never backed up yet): it tells nothing when it succeeds.
    await withBackup([]);
    await stack.waitForNetwork("family", (s) => s.backupState === "ok", 120_000);
    await withBackup([["/bin/sleep", "12"]]);
    const aboutBackups = async () => (await stack.probe.notifications()).filter((n) => /back/i.test(n.title));
    expect(await aboutBackups()).toEqual([]);

    await stack.probe.openMenu(true);
    await stack.probe.activateMenuItem("clan-action-family-backup");
    const running = await stack.probe.waitForMenu(
      (m) => texts(m).includes("Backing up: running the pre-backup hooks and copying the state disk…"),
      "the backup's progress in the menu",
    );
    expect(item(running, "clan-action-family-backup")).toMatchObject({ text: "Back up now (a backup is running)", sensitive: false });
    const [job] = (await stack.session.jobs()).filter((j) => j.kind === "backup" && j.state === "running");
    expect(job).toBeDefined();
    const done = await waitUntil(async () => ((await stack.session.getJob(job!.id)).state !== "running" ? stack.session.getJob(job!.id) : undefined), "the backup job to end", 120_000);
    expect(done).toMatchObject({ state: "succeeded" });
    await stack.probe.waitForMenu((m) => item(m, "clan-action-family-backup")?.sensitive === true && !texts(m).some((t) => t.startsWith("Backing up")), "the menu after the backup");
    await waitUntil(async () => ((await aboutBackups()).length > 0 ? true : undefined), "the outcome's notification");
    expect(await aboutBackups()).toEqual([{ title: "family: backed up", body: done.result }]);

    // A backup that fails: one notification, naming the hook and what it said — no "timeout", no second notice.
    await withBackup([["/bin/sh", "-c", "sleep 2; echo the dump failed >&2; exit 4"]]);
    await stack.probe.activateMenuItem("clan-action-family-backup");
    await waitUntil(async () => ((await aboutBackups()).length > 1 ? true : undefined), "the failure's notification");
    const failedJob = (await stack.session.jobs()).filter((j) => j.kind === "backup").at(-1)!;
    expect(failedJob).toMatchObject({ state: "failed" });
    // The status the extension reacts to has arrived: had it a notice of its own, it would be shown by now.
    await stack.probe.waitForMenu((m) => texts(m).some((t) => t.startsWith("Backup: backup failed, last success")), "the menu after the failure");
    const told = await aboutBackups();
    // The body as clan-sessiond sent it: markup-escaped, since GNOME Shell reads bodies as markup.
    expect(told.slice(1)).toEqual([{ title: "family: backup failed", body: escapeMarkup(failedJob.error) }]);
    expect(failedJob.error).toMatch(/pre-backup hook .* failed in the guest \(exit 4\): the dump failed/);
    await stack.probe.openMenu(false);
  }, 300_000);
});
