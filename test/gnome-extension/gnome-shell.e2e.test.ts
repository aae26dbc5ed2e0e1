import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGnomeExtension, UUID } from "../../scripts/build-gnome-extension.js";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { REPO } from "../helpers/daemons.js";
import { startGnomeSessionStack, type GnomeSessionStack, type MenuReadback, type ShellFingerprint } from "../helpers/gnome-session-stack.js";
import { flavourForShell, installedShellMajor } from "../helpers/gnome-probe.js";
import { startHeadlessGnome, type HeadlessGnome } from "../helpers/gnome-shell.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { countPixels } from "../helpers/screenshot.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The extension's zip for the installed GNOME Shell — the 42–44 build in GNOME Shell 43 (Debian 12), the 45+ ES-module
// build in GNOME Shell 48 (the Debian 13 lane, scripts/trixie/) — installed with `gnome-extensions install` into the
// real shell running headless, with the real clan-sessiond (--backend none) and clan-vmd on the shell's session bus booting the test guest. The probe
// extension (test/gnome-extension/probe) reads the menu back from inside the shell and switches workspaces.

const SHELL_MAJOR = installedShellMajor();
const SCREENSHOT = join(REPO, ".cache/test-output/gnome-shell/menu.png");

const texts = (menu: MenuReadback) => (menu.items ?? []).map((item) => item.text);
const item = (menu: MenuReadback, name: string) => (menu.items ?? []).find((entry) => entry.name === name);

describe.skipIf(!hasBinary("gnome-shell"))(`the extension in GNOME Shell ${SHELL_MAJOR ?? ""}${skipReason("gnome-shell")}`, () => {
  let gnome: HeadlessGnome;
  let stack: GnomeSessionStack;
  let baseline: ShellFingerprint;

  beforeAll(async () => {
    const zips = buildGnomeExtension();
    gnome = await startHeadlessGnome({ extensions: [zips[flavourForShell(SHELL_MAJOR!)]], enabled: [], probe: true });
    const generations = join(gnome.root, "generations");
    const config: ConfigInput = {
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
    // Each action is sensitive exactly when this clan-sessiond's introspection lists its method (BackupNow, for
    // one, arrives with a later version); otherwise it says which method it needs.
    const manager = (await stack.bus.getProxyObject("org.clan.Desktop.Session1", "/org/clan/Desktop/Session1")).getInterface("org.clan.Desktop.Session1.Manager");
    for (const [action, method, label] of [["rebuild", "Rebuild", "Rebuild"], ["rollback", "Rollback", "Roll back to the previous generation"], ["backup", "BackupNow", "Back up now"]] as const) {
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
    const open = await stack.probe.menu();
    await copyFile(shot, SCREENSHOT);
    await stack.probe.openMenu(false);
    // And drawn so: where the shell placed each title's dot, the screenshot has a dot's worth of its colour (GNOME
    // Shell 48 draws it up to two steps off in a channel).
    for (const [network, colour] of [["family", "#2e7dbf"], ["club", "#b5462f"]] as const) {
      const box = item(open, `clan-network-${network}`)?.dotBox;
      expect(box, network).toBeDefined();
      expect(await countPixels(shot, box!, colour, 2), `${network}'s dot at ${JSON.stringify(box)}`).toBeGreaterThan(40);
    }

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

  it("shows what a network's generation asks of this host: network mode, shares (granted or not), forwards", async () => {
    const hostPort = 20000 + (process.pid % 20000);
    const keys = join(gnome.root, "home-of-user", ".ssh");
    const guests = await makeGeneration(join(gnome.root, "generations", "guests"), {
      generation: "guests-1",
      vm: { shares: [{ tag: "ssh", source: keys, readOnly: true }], network: { mode: "user", forwards: [{ hostPort, guestPort: 80 }] } },
    });
    const config = JSON.parse(await readFile(join(gnome.root, "config.json"), "utf8")) as ConfigInput;
    config.networks["guests"] = { workspaces: ["4:guests"], colour: "#55aa33", source: { profile: guests } };
    await writeFile(join(gnome.root, "config.json"), JSON.stringify(config, null, 2));
    const shareLine = `Share ssh: ${keys} (read-only, not granted: will not start)`;
    const menu = await stack.probe.waitForMenu((m) => texts(m).includes(shareLine), "the guests network's share in the menu");
    const section = texts(menu).slice(texts(menu).indexOf("guests · workspace 4"));
    expect(section.slice(0, section.indexOf("Switch to guests"))).toEqual([
      "guests · workspace 4",
      "VM: stopped",
      "Generation: none",
      "Backup: no backup information",
      "Network: user",
      shareLine,
      `Forward: host port ${hostPort} → guest port 80`,
    ]);
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
    // Including the dconf watch of the extension's own settings: its Gio.Settings is released once collected, and
    // GJS collects when it will — each fingerprint collects, and a real leftover stays through every one of them.
    await expect.poll(() => stack.probe.fingerprint(), { timeout: 20_000, interval: 500 }).toEqual(baseline);

    expect((await enable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => texts(m).includes("club · workspace 3 · focused"), "the menu after enabling again");
    expect(await stack.probe.fingerprint()).toEqual(enabledOnce);

    expect((await disable()).exitCode).toBe(0);
    await stack.probe.waitForMenu((m) => !m.present, "the indicator to go again");
    // Nor after a second cycle.
    await expect.poll(() => stack.probe.fingerprint(), { timeout: 20_000, interval: 500 }).toEqual(baseline);
    expect(gnome.log()).not.toMatch(/JS ERROR|clan-desktop: cannot undo/);
    await enable();
  });
});
