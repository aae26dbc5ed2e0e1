import { actionCall, keybindingOutcome } from "../core/actions.js";
import { SESSION_METHODS } from "../core/dbus-names.js";
import { SESSION_METHOD_SIGNATURES } from "../core/session-contract.js";
import { Lifetime } from "../core/lifetime.js";
import { buildMenuModel, type MenuAction } from "../core/menu-model.js";
import type { NetworkStatus } from "../core/network-status.js";
import { actionFailureNotice, configErrorNotice, failureNotices, type Notice } from "../core/notifications.js";
import { buildWorkspaceMap, workspaceNameForIndex, type WorkspaceMap } from "../core/workspace-map.js";
import { Indicator } from "./indicator.js";
import { addKeybindings } from "./keybindings.js";
import type { Platform } from "./platform.js";
import { SessionConnection } from "./session-connection.js";
import { WindowGroups } from "./window-groups.js";

// One enabled extension: the link to clan-sessiond, the panel indicator, the workspace ↔ network mapping and
// the keybindings, wired together. Both entry points (extension.ts for GNOME 45+, legacy/extension.ts for
// 42–44) create one on enable() and end it on disable(); everything it made is undone through its Lifetime.

const SETTINGS_KEYS = { showCount: "show-running-count", notify: "notify-on-failure" } as const;

export class ClanDesktop {
  private readonly lifetime: Lifetime;
  private readonly session: SessionConnection;
  private readonly indicator: Indicator;
  private readonly groups: WindowGroups;
  private map: WorkspaceMap = buildWorkspaceMap([]);
  private placementKey = "";
  private lastConfigError = "";
  private lastReported: string | undefined;

  constructor(private readonly platform: Platform) {
    this.lifetime = new Lifetime((message) => platform.log(message));
    this.session = new SessionConnection(platform, this.lifetime, {
      changed: (previous, next) => this.changed(previous, next),
      connectedChanged: (connected) => this.connectedChanged(connected),
    });
    this.indicator = new Indicator(platform, this.lifetime, (action) => this.run(action), () => this.refresh());
    this.groups = new WindowGroups(platform, this.lifetime, {
      workspaceMap: () => this.map,
      viewerPids: () => this.session.snapshot().viewerPids,
      reportWorkspace: (name) => this.reportWorkspace(name),
    });
    const settingsChanged = platform.settings.connect("changed", () => this.refresh());
    this.lifetime.add("settings handler", () => platform.settings.disconnect(settingsChanged));
    addKeybindings(platform, this.lifetime, (action) => this.runKeybinding(action));
    this.groups.start();
    this.session.start();
    this.refresh();
  }

  destroy(): void {
    this.lifetime.end();
  }

  private connectedChanged(connected: boolean): void {
    this.lastReported = undefined;
    this.lastConfigError = connected ? this.session.snapshot().configError : "";
    this.refresh();
    if (connected) {
      // A (re)started clan-sessiond does not know which GNOME workspace is active until it is told.
      this.groups.reportActive();
      this.groups.placeAll();
    }
  }

  private changed(previous?: NetworkStatus, next?: NetworkStatus): void {
    if (next) for (const notice of failureNotices(previous, next)) this.notify(notice);
    const configError = this.session.snapshot().configError;
    const configNotice = configErrorNotice(this.lastConfigError, configError);
    this.lastConfigError = configError;
    if (configNotice) this.notify(configNotice);
    this.refresh();
  }

  /** Recomputes the mapping and the menu; re-reports focus and re-places windows only when they could differ. */
  private refresh(): void {
    const snapshot = this.session.snapshot();
    const networks = [...snapshot.networks.values()];
    this.map = buildWorkspaceMap(networks);
    const model = buildMenuModel({
      connected: snapshot.connected,
      networks,
      configError: snapshot.configError,
      availableMethods: snapshot.availableMethods,
      workspaces: this.map,
      nowMs: Date.now(),
    });
    this.indicator.render(model, { showCount: this.platform.settings.get_boolean(SETTINGS_KEYS.showCount) });
    if (!snapshot.connected) return;
    const active = this.platform.global.workspace_manager.get_active_workspace_index();
    if (this.lastReported !== undefined && workspaceNameForIndex(this.map, active) !== this.lastReported) this.groups.reportActive();
    const placementKey = JSON.stringify([snapshot.viewerPids, [...this.map.indexOfNetwork]]);
    if (placementKey !== this.placementKey) {
      this.placementKey = placementKey;
      this.groups.placeAll();
    }
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
      const index = this.map.indexOfNetwork.get(action.network);
      if (index !== undefined) this.groups.activate(index);
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

  private notify(notice: Notice): void {
    if (!this.platform.settings.get_boolean(SETTINGS_KEYS.notify)) return;
    this.platform.Main.notify(notice.title, notice.body);
  }
}
