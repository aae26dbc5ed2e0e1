// Entry point of the probe (probe.js says what it is) for GNOME Shell 45+, which loads extensions as ES modules.
import Clutter from 'gi://Clutter';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Shell from 'gi://Shell';
import System from 'system';
import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import { Extension } from 'resource:///org/gnome/shell/extensions/extension.js';
import { ProbeService } from './probe.js';

// GNOME 45+ keeps its deferred-work queue private to main.js, so the probe cannot run it early. What the shell
// queued while building its UI, before it loaded extensions, runs when its timer of DEFERRED_TIMEOUT_SECONDS (20 s)
// fires: waiting until 21 s after this module was loaded is waiting for it.
const DEFERRED_WORK_DONE_AT = GLib.get_monotonic_time() + 21_000_000;

function waitForDeferredWork(done) {
    const waitMs = Math.max(0, Math.ceil((DEFERRED_WORK_DONE_AT - GLib.get_monotonic_time()) / 1000));
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, waitMs, () => {
        done();
        return GLib.SOURCE_REMOVE;
    });
}

export default class ProbeExtension extends Extension {
    enable() {
        this._service = new ProbeService({ Clutter, Gio, GObject, Shell, Main, PopupMenu, collectGarbage: () => System.gc(), runDeferredWork: waitForDeferredWork });
    }

    disable() {
        this._service.stop();
        this._service = null;
    }
}
