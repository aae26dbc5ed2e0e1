// Entry point of the probe (probe.js says what it is) for GNOME Shell 45+, which loads extensions as ES modules.
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Shell from 'gi://Shell';
import System from 'system';
import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import { Extension } from 'resource:///org/gnome/shell/extensions/extension.js';
import { ProbeService } from './probe.js';

export default class ProbeExtension extends Extension {
    enable() {
        this._service = new ProbeService({ Gio, GObject, Shell, Main, PopupMenu, collectGarbage: () => System.gc() });
    }

    disable() {
        this._service.stop();
        this._service = null;
    }
}
