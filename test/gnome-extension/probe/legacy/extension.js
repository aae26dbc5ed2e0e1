// Entry point of the probe (probe.js says what it is) for GNOME Shell 43–44: libraries from imports.*, and probe.js
// converted to this format by test/helpers/gnome-probe.ts.
/* exported init */
const Me = imports.misc.extensionUtils.getCurrentExtension();
const { ProbeService } = Me.imports.probe;

class LegacyProbeExtension {
    enable() {
        const { Clutter, Gio, GObject, Shell } = imports.gi;
        this._service = new ProbeService({
            Clutter, Gio, GObject, Shell,
            Main: imports.ui.main,
            PopupMenu: imports.ui.popupMenu,
            collectGarbage: () => imports.system.gc(),
            runDeferredWork: done => {
                imports.ui.main._runAllDeferredWork();
                done();
            },
        });
    }

    disable() {
        this._service.stop();
        this._service = null;
    }
}

function init() {
    return new LegacyProbeExtension();
}
