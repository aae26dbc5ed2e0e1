import type Gio from "gi://Gio";
import { actionCall, keybindingOutcome } from "../core/actions.js";
import { SESSION_METHODS } from "../core/dbus-names.js";
import { SESSION_METHOD_SIGNATURES } from "../core/session-contract.js";
import { Lifetime } from "../core/lifetime.js";
import { buildMenuModel, type MenuAction } from "../core/menu-model.js";
import type { NetworkStatus } from "../core/network-status.js";
import { actionFailureNotice, configErrorNotice, failureNotices, type Notice } from "../core/notifications.js";
import { buildWorkspaceMap, type WorkspaceMap } from "../core/workspace-map.js";
import { Indicator } from "./indicator.js";
import { addKeybindings } from "./keybindings.js";
import { NetworkWorkspaces } from "./network-workspaces.js";
import { Notifier } from "./notifier.js";
import type { Platform } from "./platform.js";
import { SessionConnection } from "./session-connection.js";
import { WindowGroups } from "./window-groups.js";

// One enabled extension: the link to clan-sessiond, the panel indicator, the workspace ↔ network mapping and
// the keybindings, wired together. Both entry points (extension.ts for GNOME 45+, legacy/extension.ts for
// 43–44) create one on enable() and end it on disable(); everything it made is undone through its Lifetime.

/** share/applications/clan-manager.desktop, which the package installs. */
const MANAGER_DESKTOP_FILE = "clan-manager.desktop";
const SETTINGS_KEYS = { showCount: "show-running-count", notify: "notify-on-failure" } as const;

export class ClanDesktop {
  private readonly lifetime: Lifetime;
  private readonly session: SessionConnection;
  private readonly indicator: Indicator;
  private readonly groups: WindowGroups;
  private readonly workspaces: NetworkWorkspaces;
  private readonly notifier: Notifier;
  private map: WorkspaceMap = buildWorkspaceMap([]);
  /** network → its number of generations (Generations), which decides whether "roll back" can work. */
  private readonly generationCounts = new Map<string, number>();
  private refreshing = false;
  private refreshAgain = false;
  private placementKey = "";
  private lastConfigError = "";
  private lastReported: string | undefined;
  /** The extension's settings until disable(); see destroy(). */
  private settings: Gio.Settings | undefined;

  constructor(
    private readonly platform: Platform,
    settings: Gio.Settings,
  ) {
    this.settings = settings;
    this.lifetime = new Lifetime((message) => platform.log(message));
    this.session = new SessionConnection(platform, this.lifetime, {
      changed: (previous, next) => this.changed(previous, next),
      connectedChanged: (connected) => this.connectedChanged(connected),
    });
    this.notifier = new Notifier(platform, this.lifetime);
    this.indicator = new Indicator(platform, this.lifetime, (action) => this.run(action), () => this.openManager(), () => this.menuOpened());
    this.workspaces = new NetworkWorkspaces(platform, this.lifetime, () => this.refresh());
    this.groups = new WindowGroups(platform, this.lifetime, {
      workspaceMap: () => this.map,
      workspaces: this.workspaces,
      viewerPids: () => this.session.snapshot().viewerPids,
      reportWorkspace: (name) => this.reportWorkspace(name),
    });
    const settingsChanged = settings.connect("changed", () => this.refresh());
    this.lifetime.add("settings handler", () => this.settings?.disconnect(settingsChanged));
    addKeybindings(platform, settings, this.lifetime, (action) => this.runKeybinding(action));
    this.workspaces.start();
    this.groups.start();
    this.session.start();
    this.refresh();
  }

  destroy(): void {
    this.lifetime.end();
    // The extension's code stays loaded after disable(), and GJS's JIT keeps in its inline caches the last closure
    // each call site called (one of this object's, say the menu's open handler) until it next discards JIT code,
    // seconds later; through that closure all of this object stays reachable. Dropping the settings here lets
    // GJS free them, and their dconf subscription, at its next collection rather than then. No closure may
    // capture the settings for this to hold: they use this.settings.
    this.settings = undefined;
  }

  private connectedChanged(connected: boolean): void {
    this.lastReported = undefined;
    this.lastConfigError = connected ? this.session.snapshot().configError : "";
    this.generationCounts.clear();
    this.refresh();
    if (connected) {
      for (const name of this.session.snapshot().networks.keys()) this.countGenerations(name);
      // A (re)started clan-sessiond does not know which GNOME workspace is active until it is told.
      this.groups.reportActive();
      this.groups.placeAll();
    }
  }

  private changed(previous?: NetworkStatus, next?: NetworkStatus): void {
    if (next) for (const notice of failureNotices(previous, next)) this.notify(notice);
    if (next && (previous?.generation !== next.generation || previous.buildState !== next.buildState)) this.countGenerations(next.name);
    const configError = this.session.snapshot().configError;
    const configNotice = configErrorNotice(this.lastConfigError, configError);
    this.lastConfigError = configError;
    if (configNotice) this.notify(configNotice);
    this.refresh();
  }

  /** Recomputes the mapping and the menu; re-reports focus and re-places windows only when they could differ. */
  private refresh(): void {
    // A D-Bus reply may arrive after disable(): there is no menu left to draw.
    if (this.settings === undefined) return;
    // Giving a network its workspace adds one, and a new workspace calls back here: finish this round first.
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.refreshAgain = false;
        this.refreshOnce();
      } while (this.refreshAgain);
    } finally {
      this.refreshing = false;
    }
  }

  private refreshOnce(): void {
    const snapshot = this.session.snapshot();
    const networks = [...snapshot.networks.values()];
    this.map = buildWorkspaceMap(networks);
    // While clan-sessiond is away its networks are unknown, not gone: their workspaces stay as they are.
    if (snapshot.connected) this.workspaces.sync(this.map);
    const workspaceNumbers = new Map<string, number>();
    for (const name of this.map.slotOfNetwork.keys()) {
      const index = this.workspaces.indexOfNetwork(name);
      if (index !== undefined) workspaceNumbers.set(name, index + 1);
    }
    const model = buildMenuModel({
      connected: snapshot.connected,
      networks,
      configError: snapshot.configError,
      availableMethods: snapshot.availableMethods,
      workspaces: this.map,
      workspaceNumbers,
      generationCounts: this.generationCounts,
      nowMs: Date.now(),
    });
    this.indicator.render(model, { showCount: this.settings?.get_boolean(SETTINGS_KEYS.showCount) ?? false });
    if (!snapshot.connected) return;
    if (this.lastReported !== undefined && this.groups.activeWorkspaceName() !== this.lastReported) this.groups.reportActive();
    const placementKey = JSON.stringify([snapshot.viewerPids, this.map.slots]);
    if (placementKey !== this.placementKey) {
      this.placementKey = placementKey;
      this.groups.placeAll();
    }
  }

  private menuOpened(): void {
    for (const name of this.session.snapshot().networks.keys()) this.countGenerations(name);
    this.refresh();
  }

  /** Asks clan-sessiond how many generations the network has; the menu offers "roll back" only with two or more. */
  private countGenerations(network: string): void {
    const snapshot = this.session.snapshot();
    if (!snapshot.connected || !snapshot.availableMethods.has(SESSION_METHODS.generations)) return;
    this.session.call({ method: SESSION_METHODS.generations, signature: "(s)", args: [network] }).then((reply) => {
      const [entries] = reply.recursiveUnpack() as [unknown[]];
      if (this.generationCounts.get(network) === entries.length) return;
      this.generationCounts.set(network, entries.length);
      this.refresh();
    }, (error: Error) => this.platform.log(`cannot list the generations of ${network}: ${error.message}`));
  }

  private reportWorkspace(name: string): void {
    if (!this.session.snapshot().connected) return;
    this.lastReported = name;
    this.session
      .call({ method: SESSION_METHODS.workspaceFocused, signature: SESSION_METHOD_SIGNATURES.WorkspaceFocused.in, args: [name] })
      .catch((error: Error) => this.platform.log(`cannot report workspace ${JSON.stringify(name)}: ${error.message}`));
  }

  private run(action: MenuAction): void {
    if (action.id === "switch") {
      this.groups.activate(action.network);
      return;
    }
    this.session.call(actionCall(action.id, action.network)).catch((error: Error) => {
      this.notify(actionFailureNotice(action.label.toLowerCase(), action.network, error.message));
    });
  }

  private runKeybinding(action: "rebuild" | "rollback"): void {
    const snapshot = this.session.snapshot();
    const outcome = keybindingOutcome(action, snapshot.connected ? snapshot.focusedNetwork : "", snapshot.availableMethods);
    if ("refusal" in outcome) {
      // The user just pressed the key: say why nothing happens, whatever the failure-notification setting.
      this.platform.Main.notify("clan-desktop", snapshot.connected ? outcome.refusal : "clan-sessiond is not running");
      return;
    }
    this.session.call(outcome.call).catch((error: Error) => this.notify(actionFailureNotice(action, snapshot.focusedNetwork, error.message)));
  }

  /** Launches clan-manager through its desktop file, as the app grid would (one window per session: it presents the open one). */
  private openManager(): void {
    const app = this.platform.Shell.AppSystem.get_default().lookup_app(MANAGER_DESKTOP_FILE);
    if (!app) {
      // The user just clicked: said whatever the failure-notification setting.
      this.platform.Main.notify("Clan Manager is not installed", `GNOME finds no ${MANAGER_DESKTOP_FILE} among its applications; clanctl manager opens it from a terminal.`);
      return;
    }
    app.activate();
  }

  private notify(notice: Notice): void {
    // A call cancelled by disable() fails after it: that is not news, and it must not make a new notification source.
    if (!this.settings?.get_boolean(SETTINGS_KEYS.notify)) return;
    this.notifier.show(notice);
  }
}
