import type St from "gi://St";
import type * as PanelMenu from "resource:///org/gnome/shell/ui/panelMenu.js";
import type * as PopupMenu from "resource:///org/gnome/shell/ui/popupMenu.js";
import { safeColour } from "../core/format.js";
import type { Lifetime } from "../core/lifetime.js";
import type { MenuAction, MenuModel, NetworkSection } from "../core/menu-model.js";
import { LEVELS } from "../core/summary.js";
import type { Platform } from "./platform.js";

// The top panel's icon and menu, drawn from a MenuModel (src/gnome-extension/core/menu-model.ts). Each network is
// a submenu whose collapsed row shows its title and worst state, so that the menu of several networks fits a
// small screen (1280×600); its details and actions open below it. The menu is rebuilt whole on every change (a
// rebuild cannot leave a stale row behind), keeping open the submenu that was open.
// Widget names ("clan-…") let the test probe read the menu back from inside the shell.

export interface IndicatorOptions {
  /** Shows "2/3" (running/total) beside the icon. */
  showCount: boolean;
}

export class Indicator {
  private readonly button: PanelMenu.Button;
  private readonly icon: St.Icon;
  private readonly count: St.Label;
  private model: MenuModel | undefined;

  constructor(
    private readonly platform: Platform,
    lifetime: Lifetime,
    private readonly onAction: (action: MenuAction) => void,
    /** "Open manager": the Clan Manager window (docs/manager.md). */
    private readonly onOpenManager: () => void,
    /** Called when the menu opens, so that ages ("3 min ago") are fresh without a timer. */
    onOpen: () => void,
  ) {
    const { St, PanelMenu, Main, Clutter } = platform;
    this.button = new PanelMenu.Button(0.0, "clan-desktop networks", false);
    const box = new St.BoxLayout({ style_class: "panel-status-menu-box" });
    this.icon = new St.Icon({ icon_name: "network-vpn-disabled-symbolic", style_class: "system-status-icon", name: "clan-summary-icon" });
    this.count = new St.Label({ text: "", y_align: Clutter.ActorAlign.CENTER, name: "clan-summary-count" });
    box.add_child(this.icon);
    box.add_child(this.count);
    this.button.add_child(box);
    Main.panel.addToStatusArea(platform.uuid, this.button);
    // Destroying the button removes it from the panel and statusArea, and destroys its menu, items and their signals.
    lifetime.add("panel indicator", () => this.button.destroy());
    const menu = this.button.menu as PopupMenu.PopupMenu;
    const openStateChanged = menu.connect("open-state-changed", (_menu: unknown, open: boolean) => {
      if (open) onOpen();
      return undefined;
    });
    // Destroying the menu leaves its JS signal handlers connected, and GNOME 43 keeps the destroyed menu reachable
    // (misc/signalTracker.js still lists it): this handler would keep the whole extension, its Gio.Settings and
    // that object's dconf subscription alive after disable().
    lifetime.add("menu open-state handler", () => menu.disconnect(openStateChanged));
  }

  render(model: MenuModel, options: IndicatorOptions): void {
    if (this.model !== undefined && JSON.stringify(this.model) === JSON.stringify(model)) return;
    this.model = model;
    this.icon.icon_name = model.summary.iconName;
    this.icon.accessible_name = model.summary.text;
    for (const level of LEVELS) this.icon.remove_style_class_name(`clan-level-${level}`);
    this.icon.add_style_class_name(`clan-level-${model.summary.level}`);
    const running = model.sections.filter((section) => section.vmState === "running").length;
    this.count.text = options.showCount && model.sections.length > 0 ? `${running}/${model.sections.length}` : "";

    const menu = this.button.menu as PopupMenu.PopupMenu;
    const open = menu.isOpen ? this.openNetwork(menu) : undefined;
    menu.removeAll();
    menu.addMenuItem(this.textItem(model.summary.text, "clan-summary", "clan-summary"));
    for (const [index, notice] of model.notices.entries()) menu.addMenuItem(this.textItem(notice, `clan-notice-${index}`, "clan-notice"));
    if (model.sections.length > 0) menu.addMenuItem(new this.platform.PopupMenu.PopupSeparatorMenuItem());
    for (const section of model.sections) {
      const item = this.networkItem(section);
      menu.addMenuItem(item);
      if (section.network === open) item.setSubmenuShown(true);
    }
    menu.addMenuItem(new this.platform.PopupMenu.PopupSeparatorMenuItem());
    menu.addMenuItem(this.openManagerItem());
  }

  /** Always there, also while clan-sessiond is not running: the manager then says so and waits for it. */
  private openManagerItem(): PopupMenu.PopupMenuItem {
    const item = new this.platform.PopupMenu.PopupMenuItem("Open manager");
    item.name = "clan-open-manager";
    const activated = item.connect("activate", () => this.onOpenManager());
    // As for the actions: GNOME 43 keeps the item last activated after it is destroyed.
    item.connect("destroy", () => item.disconnect(activated));
    return item;
  }

  /** The network whose submenu is open, so that a rebuild while the user reads it keeps it open. */
  private openNetwork(menu: PopupMenu.PopupMenu): string | undefined {
    for (const item of menu._getMenuItems()) {
      const submenu = item as PopupMenu.PopupSubMenuMenuItem;
      const name = submenu.name ?? "";
      if (submenu.menu?.isOpen && name.startsWith("clan-network-")) return name.slice("clan-network-".length);
    }
    return undefined;
  }

  private networkItem(model: NetworkSection): PopupMenu.PopupSubMenuMenuItem {
    const { PopupMenu, St, Clutter } = this.platform;
    const item = new PopupMenu.PopupSubMenuMenuItem(model.title, false);
    item.name = `clan-network-${model.network}`;
    item.label.add_style_class_name("clan-network-title");
    // Only the dot takes the network's colour, so the title stays readable on any theme. It is a label of its own
    // with an inline style (GNOME 43 drew a Pango colour in the title's markup in the item's grey), and the colour
    // reaches that CSS only as safeColour's #rrggbb.
    const dot = new St.Label({
      text: "●",
      name: "clan-network-dot",
      style: `color: ${safeColour(model.colour)};`,
      y_align: Clutter.ActorAlign.CENTER,
    });
    item.insert_child_below(dot, item.label);
    const status = new St.Label({
      text: model.status,
      name: "clan-network-status",
      style_class: `clan-network-status clan-level-${model.level}`,
      y_align: Clutter.ActorAlign.CENTER,
    });
    item.insert_child_above(status, item.label);
    model.lines.forEach((line, index) => item.menu.addMenuItem(this.textItem(line, `clan-line-${model.network}-${index}`, "clan-network-line")));
    for (const action of model.actions) {
      const actionItem = new PopupMenu.PopupMenuItem(action.label);
      actionItem.name = `clan-action-${action.network}-${action.id}`;
      actionItem.setSensitive(action.sensitive);
      if (action.hint) actionItem.label.text = `${action.label} (${action.hint})`;
      const activated = actionItem.connect("activate", () => this.onAction(action));
      // GNOME 43's menus keep the item last activated (`_activeMenuItem`) after it is destroyed: its handler would
      // keep the extension alive after disable().
      actionItem.connect("destroy", () => actionItem.disconnect(activated));
      item.menu.addMenuItem(actionItem);
    }
    return item;
  }

  private textItem(text: string, name: string, styleClass: string): PopupMenu.PopupMenuItem {
    const { PopupMenu } = this.platform;
    const item = new PopupMenu.PopupMenuItem(text, { reactive: false, can_focus: false, style_class: styleClass });
    item.name = name;
    return item;
  }
}
