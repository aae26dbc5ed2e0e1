// A test-only GNOME Shell extension: it exports org.clan.Desktop.GnomeProbe1 on the session bus so that the
// end-to-end tests can read the clan-desktop indicator's menu from inside the shell, switch workspaces as a user
// would, take a screenshot with Shell.Screenshot (org.gnome.Shell.Screenshot is locked down for callers outside
// the shell), list the windows with their pids and workspaces, and fingerprint what an extension may leave behind
// after disable(). It lives apart from the product, so the zips under test are exactly the ones users install.
// This module is written once, as an ES module that imports nothing: the shell's libraries arrive as a platform
// object from the entry point of each format (extension.js for GNOME 45+, legacy/extension.js for 43–44), and
// test/helpers/gnome-probe.ts converts it for 43–44 with the product's own converter.

const UUID = 'clan-desktop@clan.lol';
const PROBE_INTERFACE = `<node><interface name="org.clan.Desktop.GnomeProbe1">
  <method name="Menu"><arg type="s" direction="out"/></method>
  <method name="OpenMenu"><arg type="b" direction="in"/></method>
  <method name="ActivateWorkspace"><arg type="i" direction="in"/></method>
  <method name="ActiveWorkspace"><arg type="i" direction="out"/></method>
  <method name="Screenshot"><arg type="s" direction="in"/></method>
  <method name="Fingerprint"><arg type="s" direction="out"/></method>
  <method name="CollectGarbage"/>
  <method name="RunDeferredWork"/>
  <method name="Windows"><arg type="s" direction="out"/></method>
  <method name="HideOverview"/>
  <method name="ActivateItem"><arg type="s" direction="in"/></method>
  <method name="OpenSubmenu"><arg type="s" direction="in"/></method>
  <method name="MenuSize"><arg type="s" direction="out"/></method>
  <method name="Workspaces"><arg type="s" direction="out"/></method>
  <method name="Notifications"><arg type="s" direction="out"/></method>
  <method name="ExpireBanner"><arg type="b" direction="out"/></method>
</interface></node>`;

function indicator(Main) {
    return Main.panel.statusArea[UUID] ?? null;
}

function screenBox(actor) {
    const [x, y] = actor.get_transformed_position();
    const [width, height] = actor.get_transformed_size();
    return { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) };
}

function menuItems(PopupMenu, menu) {
    const items = [];
    for (const item of menu._getMenuItems()) {
        if (item instanceof PopupMenu.PopupMenuSection) {
            items.push(...menuItems(PopupMenu, item));
        } else if (item.label) {
            // A network title's dot: the colour the theme computed for it, as the shell draws it (#rrggbbaa).
            const dot = item.get_children().find(child => child.name === 'clan-network-dot');
            const dotColour = dot?.get_theme_node().get_foreground_color().to_string();
            // Where the dot is on screen (while the menu is open), for a test that looks at its pixels.
            const dotBox = dot ? screenBox(dot) : undefined;
            const status = item.get_children().find(child => child.name === 'clan-network-status')?.text;
            items.push({ name: item.name ?? '', text: item.label.text, sensitive: item.getSensitive(), reactive: item.reactive, dotColour, dotBox, status });
            // A network's submenu: its rows follow its title.
            if (item instanceof PopupMenu.PopupSubMenuMenuItem)
                items.push(...menuItems(PopupMenu, item.menu));
        }
    }
    return items;
}

/** The item called `name`, in the menu or one of its submenus. */
function findItem(PopupMenu, menu, name) {
    for (const item of menu._getMenuItems()) {
        if (item.name === name)
            return item;
        const inner = item instanceof PopupMenu.PopupMenuSection ? item
            : item instanceof PopupMenu.PopupSubMenuMenuItem ? item.menu : null;
        const found = inner && findItem(PopupMenu, inner, name);
        if (found)
            return found;
    }
    return null;
}

/**
 * Handlers connected to `signal` on `instance`, whoever connected them. GLib's *_matched functions need a
 * closure or function to match, which a probe does not have: find the next unblocked handler, block it, count,
 * and unblock them all afterwards.
 */
function handlerCount(GObject, instance, signal) {
    const id = GObject.signal_lookup(signal, instance.constructor.$gtype);
    const mask = GObject.SignalMatchType.ID | GObject.SignalMatchType.UNBLOCKED;
    const blocked = [];
    for (;;) {
        const handler = GObject.signal_handler_find(instance, mask, id, 0, null, null, null);
        if (!handler)
            break;
        GObject.signal_handler_block(instance, handler);
        blocked.push(handler);
    }
    for (const handler of blocked)
        GObject.signal_handler_unblock(instance, handler);
    return blocked.length;
}

class Probe {
    constructor(platform) {
        this._platform = platform;
    }

    Menu() {
        const { Main, PopupMenu } = this._platform;
        const button = indicator(Main);
        if (!button)
            return JSON.stringify({ present: false });
        const icon = button.get_first_child()?.get_first_child();
        return JSON.stringify({
            present: true,
            iconName: icon?.icon_name ?? '',
            styleClass: icon?.get_style_class_name() ?? '',
            count: button.get_first_child()?.get_last_child()?.text ?? '',
            items: menuItems(PopupMenu, button.menu),
        });
    }

    OpenMenu(open) {
        const button = indicator(this._platform.Main);
        if (button && open)
            button.menu.open(false);
        else if (button)
            button.menu.close(false);
    }

    /** -1 is the last workspace: with dynamic workspaces, the empty one GNOME keeps at the end. */
    ActivateWorkspace(index) {
        const manager = global.workspace_manager;
        if (index < 0)
            index = manager.get_n_workspaces() - 1;
        while (manager.get_n_workspaces() <= index)
            manager.append_new_workspace(false, global.get_current_time());
        manager.get_workspace_by_index(index).activate(global.get_current_time());
    }

    /** Clicks a menu item (as the user would: the menu must be open for the item to be reachable, so open it). */
    ActivateItem(name) {
        const { Clutter, Main, PopupMenu } = this._platform;
        const button = indicator(Main);
        const item = button && findItem(PopupMenu, button.menu, name);
        if (!item)
            throw new Error(`no menu item ${name}`);
        button.menu.open(false);
        item.activate(Clutter.get_current_event());
    }

    OpenSubmenu(name) {
        const { Main, PopupMenu } = this._platform;
        const button = indicator(Main);
        const item = button && findItem(PopupMenu, button.menu, name);
        if (!item)
            throw new Error(`no menu item ${name}`);
        item.setSubmenuShown(true);
    }

    /** The open menu's natural size and where it is drawn, and the room the screen gives it. */
    MenuSize() {
        const { Main } = this._platform;
        const actor = indicator(Main).menu.actor;
        const [, naturalHeight] = actor.get_preferred_height(-1);
        const [x, y] = actor.get_transformed_position();
        const monitor = Main.layoutManager.primaryMonitor;
        return JSON.stringify({ naturalHeight, x, y, width: actor.width, height: actor.height, monitorWidth: monitor.width, monitorHeight: monitor.height, panelHeight: Main.panel.height });
    }

    Workspaces() {
        const manager = global.workspace_manager;
        return JSON.stringify({ count: manager.get_n_workspaces(), active: manager.get_active_workspace_index() });
    }

    /** Every notification the message tray holds, by source: what stays in the notification list. */
    Notifications() {
        return JSON.stringify(this._platform.Main.messageTray.getSources().flatMap(source => source.notifications.map(notification => ({
            source: source.title,
            title: notification.title,
            // GNOME 46 renamed the banner's text to `body`.
            body: notification.body ?? notification.bannerBodyText ?? '',
            transient: notification.isTransient,
        }))));
    }

    /** Ends the banner on screen, as its timeout does once the user is active; false when none is shown. */
    ExpireBanner() {
        const tray = this._platform.Main.messageTray;
        if (!tray._notification)
            return false;
        tray._expireNotification();
        return true;
    }

    ActiveWorkspace() {
        return global.workspace_manager.get_active_workspace_index();
    }

    ScreenshotAsync([path], invocation) {
        const { Gio, Shell } = this._platform;
        try {
            const file = Gio.File.new_for_path(path);
            const stream = file.replace(null, false, Gio.FileCreateFlags.NONE, null);
            new Shell.Screenshot().screenshot(false, stream, (shooter, result) => {
                try {
                    shooter.screenshot_finish(result);
                    stream.close(null);
                    invocation.return_value(null);
                } catch (error) {
                    invocation.return_gerror(error);
                }
            });
        } catch (error) {
            invocation.return_gerror(error);
        }
    }

    Fingerprint() {
        const { GObject, Main } = this._platform;
        const wm = Main.wm;
        return JSON.stringify({
            statusArea: Object.keys(Main.panel.statusArea).sort(),
            // removeKeybinding() leaves the name with ActionMode.NONE (0) behind: only a non-zero mode is a live binding.
            keybindings: ['rebuild-focused-network', 'rollback-focused-network'].filter(name => wm._allowedKeybindings[name]),
            activeWorkspaceHandlers: handlerCount(GObject, global.workspace_manager, 'active-workspace-changed'),
            windowCreatedHandlers: handlerCount(GObject, global.display, 'window-created'),
            panelChildren: Main.panel._rightBox.get_n_children(),
            menuManagerMenus: Main.panel.menuManager._menus.length,
        });
    }

    /**
     * Objects an extension dropped in disable() (a Gio.Settings, with its dconf subscription) are released when
     * GJS collects them: collect now, so that what remains after disable() is what the extension still holds.
     */
    CollectGarbage() {
        this._platform.collectGarbage();
    }

    /**
     * GNOME Shell defers work for actors that are not on screen by up to 20 s (Main.initializeDeferredWork): the app
     * grid, for one, then subscribes to each app folder's settings. Have it done (how depends on the shell's
     * version: see the entry points), so that it cannot land between two fingerprints and pass for something an
     * extension left behind.
     */
    RunDeferredWorkAsync(_parameters, invocation) {
        this._platform.runDeferredWork(() => invocation.return_value(null));
    }

    Windows() {
        return JSON.stringify(global.get_window_actors().map(actor => {
            const window = actor.get_meta_window();
            const { width, height } = window.get_frame_rect();
            return { title: window.get_title(), wmClass: window.get_wm_class() ?? '', pid: window.get_pid(), workspace: window.get_workspace()?.index() ?? -1, width, height };
        }));
    }

    /** GNOME Shell starts in the overview; a screenshot of windows on their workspace needs it closed. */
    HideOverviewAsync(_parameters, invocation) {
        const { Main } = this._platform;
        if (!Main.overview.visible) {
            invocation.return_value(null);
            return;
        }
        const id = Main.overview.connect('hidden', () => {
            Main.overview.disconnect(id);
            invocation.return_value(null);
        });
        Main.overview.hide();
    }
}

/**
 * The probe on the session bus while the extension is enabled. `platform`: Clutter, Gio, GObject, Shell, Main, PopupMenu,
 * collectGarbage() and runDeferredWork(done), from the entry point of the shell's extension format.
 */
export class ProbeService {
    constructor(platform) {
        this._exported = platform.Gio.DBusExportedObject.wrapJSObject(PROBE_INTERFACE, new Probe(platform));
        this._exported.export(platform.Gio.DBus.session, '/org/clan/Desktop/GnomeProbe1');
        this._owner = platform.Gio.bus_own_name(platform.Gio.BusType.SESSION, 'org.clan.Desktop.GnomeProbe1', platform.Gio.BusNameOwnerFlags.NONE, null, null, null);
        this._platform = platform;
        console.log('clan-probe: ready');
    }

    stop() {
        this._platform.Gio.bus_unown_name(this._owner);
        this._exported.unexport();
        this._exported = null;
    }
}
