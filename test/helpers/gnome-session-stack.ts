import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../../src/shared/dbus-names.js";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import { SessionClient } from "../../src/shared/session-client.js";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { REPO, waitUntil } from "./daemons.js";
import type { HeadlessGnome } from "./gnome-shell.js";
import { stopProcess } from "./processes.js";

// clan-vmd and clan-sessiond (`--backend none`, the GNOME backend) on a headless GNOME Shell's session bus. The
// bus admits only its owner (and root, for the test process), so both daemons run as the shell's user, which
// is also what a real GNOME login does. Also a client of the probe extension (test/gnome-extension/probe).

export interface UserDaemon {
  process: ResultPromise;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startUserDaemon(gnome: HeadlessGnome, bin: string, args: string[], env: Record<string, string> = {}): UserDaemon {
  const { process: child, log } = gnome.spawnAsUser("node", [join(REPO, "bin", `${bin}.js`), ...args], env);
  return {
    process: child,
    output: log,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      await waitUntil(() => {
        if (child.exitCode !== null) throw new Error(`${bin} exited (${child.exitCode}):\n${log()}`);
        return pattern.test(log()) ? true : undefined;
      }, `${bin} to print ${pattern}:\n${log()}`, timeoutMs);
    },
    stop: () => stopProcess(child, 5000),
  };
}

export interface GnomeSessionStack {
  vmd: UserDaemon;
  sessiond: UserDaemon;
  bus: MessageBus;
  session: SessionClient;
  probe: GnomeProbe;
  startSessiond(): Promise<void>;
  stopSessiond(): Promise<void>;
  waitForNetwork(name: string, predicate: (status: NetworkStatus) => boolean, timeoutMs?: number): Promise<NetworkStatus>;
  /** clan-sessiond's ViewerPids property: network → pid of the host process whose windows show its VM. */
  viewerPids(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startGnomeSessionStack(gnome: HeadlessGnome, config: ConfigInput): Promise<GnomeSessionStack> {
  const configFile = join(gnome.root, "config.json");
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o644 });
  const state = join(gnome.root, "state");
  await mkdir(state, { recursive: true });
  await execa("chown", ["-R", `${gnome.user.uid}:${gnome.user.gid}`, state]);
  const env = { CLAN_DESKTOP_CONFIG: configFile, XDG_STATE_HOME: join(state, "xdg") };
  const vmd = startUserDaemon(gnome, "clan-vmd", ["--runtime-dir", join(gnome.runtimeDir, "clan-vmd"), "--state-dir", join(state, "vmd"), "--accel", "tcg", "--powerdown-timeout", "1"], env);
  await vmd.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
  let sessiond: UserDaemon | undefined;
  const startSessiond = async () => {
    sessiond = startUserDaemon(gnome, "clan-sessiond", ["--backend", "none"], env);
    await sessiond.waitForOutput(/serving org\.clan\.Desktop\.Session1/);
  };
  await startSessiond();
  const bus = sessionBus({ busAddress: gnome.sessionBusAddress });
  const session = await SessionClient.connect(bus);
  const probe = await GnomeProbe.connect(bus);
  const vms = await VmdClient.connect(bus);
  return {
    vmd,
    get sessiond() {
      return sessiond!;
    },
    bus,
    session,
    probe,
    startSessiond,
    async stopSessiond() {
      await sessiond?.stop();
    },
    async waitForNetwork(name, predicate, timeoutMs = 60_000) {
      let last: NetworkStatus | undefined;
      try {
        return await waitUntil(async () => {
          last = await session.getNetwork(name).catch(() => undefined);
          return last && predicate(last) ? last : undefined;
        }, `network ${name} to reach the expected state`, timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}; its last status: ${JSON.stringify(last)}`);
      }
    },
    async viewerPids() {
      const object = await bus.getProxyObject(SESSION_BUS_NAME, SESSION_MANAGER_PATH);
      const properties = object.getInterface("org.freedesktop.DBus.Properties") as unknown as ProbeInterface;
      return ((await properties["Get"]!(SESSION_MANAGER_INTERFACE, "ViewerPids")) as { value: Record<string, number> }).value;
    },
    async stop() {
      // clan-sessiond first: while it runs it starts the focused network's VM again after stopAll. clan-vmd keeps
      // its VMs across its own restart (re-adoption): stop them, or QEMU outlives the test.
      await sessiond?.stop();
      await vms.stopAll().catch(() => undefined);
      bus.disconnect();
      await vmd.stop();
    },
  };
}

export interface MenuItem {
  name: string;
  text: string;
  sensitive: boolean;
  reactive: boolean;
  /** A network title's dot, in the colour the shell's theme computed for it: "#rrggbbaa". */
  dotColour?: string;
  /** Where that dot is on screen while the menu is open. */
  dotBox?: { x: number; y: number; width: number; height: number };
  /** A network's state beside its title, visible while its submenu is collapsed. */
  status?: string;
}

/** The open panel menu as the shell lays it out, and the room the screen gives it. */
export interface MenuSize {
  naturalHeight: number;
  x: number;
  y: number;
  width: number;
  height: number;
  monitorWidth: number;
  monitorHeight: number;
  panelHeight: number;
}

/** A notification in GNOME Shell's message tray (and so in its notification list). */
export interface ShellNotification {
  source: string;
  title: string;
  body: string;
  transient: boolean;
}

export interface MenuReadback {
  present: boolean;
  iconName?: string;
  styleClass?: string;
  count?: string;
  items?: MenuItem[];
}

export interface ShellFingerprint {
  statusArea: string[];
  keybindings: string[];
  activeWorkspaceHandlers: number;
  windowCreatedHandlers: number;
  panelChildren: number;
  menuManagerMenus: number;
  /** D-Bus match rules of the shell's connection (signal subscriptions and name watches), from the bus itself. */
  matchRules: string[];
}

/** A window as the shell knows it: its process (from the Wayland client's credentials) and workspace index. */
export interface ShellWindow {
  title: string;
  wmClass: string;
  pid: number;
  /** -1 for a window on every workspace. */
  workspace: number;
  /** 0 × 0 until its client has drawn: GNOME lists a Wayland window before that. */
  width: number;
  height: number;
}

type ProbeInterface = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** The test-only probe extension's D-Bus interface: looks inside the shell. */
export class GnomeProbe {
  private constructor(
    private readonly bus: MessageBus,
    private readonly probe: ProbeInterface,
  ) {}

  static async connect(bus: MessageBus): Promise<GnomeProbe> {
    const object = await waitUntil(
      () => bus.getProxyObject("org.clan.Desktop.GnomeProbe1", "/org/clan/Desktop/GnomeProbe1").catch(() => undefined),
      "the probe extension on the bus",
      20_000,
    );
    return new GnomeProbe(bus, object.getInterface("org.clan.Desktop.GnomeProbe1") as unknown as ProbeInterface);
  }

  async menu(): Promise<MenuReadback> {
    return JSON.parse(String(await this.probe["Menu"]!())) as MenuReadback;
  }

  async waitForMenu(predicate: (menu: MenuReadback) => boolean, what: string, timeoutMs = 20_000): Promise<MenuReadback> {
    let last: MenuReadback | undefined;
    try {
      return await waitUntil(async () => {
        last = await this.menu();
        return predicate(last) ? last : undefined;
      }, what, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the menu: ${JSON.stringify(last)}`);
    }
  }

  async openMenu(open: boolean): Promise<void> {
    await this.probe["OpenMenu"]!(open);
  }

  async activateWorkspace(index: number): Promise<void> {
    await this.probe["ActivateWorkspace"]!(index);
  }

  async screenshot(path: string): Promise<void> {
    await this.probe["Screenshot"]!(path);
  }

  /** Clicks the menu item called `name` (in the menu or a network's submenu), once the extension has shown it. */
  async activateItem(name: string): Promise<void> {
    // Right after the shell starts, the extension may not have had clan-sessiond's list yet (seen under load).
    await this.waitForMenu((menu) => (menu.items ?? []).some((item) => item.name === name), `menu item ${name}`, 60_000);
    await this.probe["ActivateItem"]!(name);
  }

  async openSubmenu(name: string): Promise<void> {
    await this.probe["OpenSubmenu"]!(name);
  }

  async menuSize(): Promise<MenuSize> {
    return JSON.parse(String(await this.probe["MenuSize"]!())) as MenuSize;
  }

  async workspaces(): Promise<{ count: number; active: number }> {
    return JSON.parse(String(await this.probe["Workspaces"]!())) as { count: number; active: number };
  }

  async notifications(): Promise<ShellNotification[]> {
    return JSON.parse(String(await this.probe["Notifications"]!())) as ShellNotification[];
  }

  /** Ends the banner on screen as its timeout would; false when no banner is shown. */
  async expireBanner(): Promise<boolean> {
    return Boolean(await this.probe["ExpireBanner"]!());
  }

  async activeWorkspace(): Promise<number> {
    return Number(await this.probe["ActiveWorkspace"]!());
  }

  async windows(): Promise<ShellWindow[]> {
    return JSON.parse(String(await this.probe["Windows"]!())) as ShellWindow[];
  }

  async hideOverview(): Promise<void> {
    await this.probe["HideOverview"]!();
  }

  async fingerprint(): Promise<ShellFingerprint> {
    // The shell's own deferred work first (see the probe's RunDeferredWork). Then let replies and signals in flight
    // settle, and let dropped objects go, so both sides of a comparison are quiet. Twice: GJS releases a GObject
    // whose wrapper was collected only after the main loop has run once.
    await this.probe["RunDeferredWork"]!();
    for (let round = 0; round < 2; round++) {
      await sleep(300);
      await this.probe["CollectGarbage"]!();
    }
    await sleep(300);
    const shell = JSON.parse(String(await this.probe["Fingerprint"]!())) as Omit<ShellFingerprint, "matchRules">;
    const driver = await this.bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
    const owner = (await (driver.getInterface("org.freedesktop.DBus") as unknown as ProbeInterface)["GetNameOwner"]!("org.gnome.Shell")) as string;
    const rules = (await (driver.getInterface("org.freedesktop.DBus.Debug.Stats") as unknown as ProbeInterface)["GetAllMatchRules"]!()) as Record<string, string[]>;
    return { ...shell, matchRules: [...(rules[owner] ?? [])].sort() };
  }
}
