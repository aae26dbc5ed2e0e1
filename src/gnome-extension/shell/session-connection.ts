import type Gio from "gi://Gio";
import type GLib from "gi://GLib";
import type { DbusCall } from "../core/actions.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH, SESSION_METHODS, VIEWER_PIDS_PROPERTY } from "../core/dbus-names.js";
import type { Lifetime } from "../core/lifetime.js";
import { decodeNetworkStatus, type NetworkStatus } from "../core/network-status.js";
import type { Platform } from "./platform.js";

// The extension's link to clan-sessiond. Every call is asynchronous (a synchronous D-Bus call would freeze the
// whole shell while the daemon is busy). The link follows the bus name: when clan-sessiond appears it builds a
// proxy, reads which methods exist (introspection) and lists the networks; when it vanishes everything of that
// connection is dropped, and the next appearance starts again.

export interface SessionSnapshot {
  connected: boolean;
  networks: ReadonlyMap<string, NetworkStatus>;
  availableMethods: ReadonlySet<string>;
  configError: string;
  focusedNetwork: string;
  /** network → pid of its viewer; empty while clan-sessiond does not publish ViewerPids. */
  viewerPids: Readonly<Record<string, number>>;
}

export interface SessionListener {
  /** Anything in the snapshot changed; `previous` is the status of the changed network before the change. */
  changed(previous?: NetworkStatus, next?: NetworkStatus): void;
  connectedChanged(connected: boolean): void;
}

export class SessionConnection {
  private proxy: Gio.DBusProxy | undefined;
  private cancellable: Gio.Cancellable | undefined;
  private readonly networks = new Map<string, NetworkStatus>();
  private methods = new Set<string>();

  constructor(
    private readonly platform: Platform,
    private readonly lifetime: Lifetime,
    private readonly listener: SessionListener,
  ) {}

  start(): void {
    const { Gio } = this.platform;
    const watch = Gio.bus_watch_name(Gio.BusType.SESSION, SESSION_BUS_NAME, Gio.BusNameWatcherFlags.NONE,
      (connection) => this.appeared(connection), () => this.vanished());
    this.lifetime.add("watch of clan-sessiond's bus name", () => Gio.bus_unwatch_name(watch));
  }

  snapshot(): SessionSnapshot {
    const property = (name: string) => this.proxy?.get_cached_property(name)?.recursiveUnpack() as unknown;
    const pids = property(VIEWER_PIDS_PROPERTY);
    return {
      connected: this.proxy !== undefined,
      networks: this.networks,
      availableMethods: this.methods,
      configError: String(property("ConfigError") ?? ""),
      focusedNetwork: String(property("FocusedNetwork") ?? ""),
      viewerPids: pids !== null && typeof pids === "object" ? (pids as Record<string, number>) : {},
    };
  }

  async call(call: DbusCall): Promise<void> {
    const { proxy, cancellable } = this;
    if (!proxy || !cancellable) throw new Error("clan-sessiond is not running");
    const { GLib } = this.platform;
    await this.invoke(proxy, call.method, new GLib.Variant(call.signature, call.args), cancellable);
  }

  private appeared(connection: Gio.DBusConnection): void {
    this.dropConnection();
    const { Gio } = this.platform;
    const episode = this.lifetime.child("connection to clan-sessiond");
    const cancellable = new Gio.Cancellable();
    episode.add("pending calls to clan-sessiond", () => cancellable.cancel());
    this.cancellable = cancellable;
    this.dropEpisode = () => episode.end();
    Gio.DBusProxy.new(connection, Gio.DBusProxyFlags.DO_NOT_AUTO_START, null, SESSION_BUS_NAME, SESSION_MANAGER_PATH,
      SESSION_MANAGER_INTERFACE, cancellable, (_source, result) => {
        try {
          const proxy = Gio.DBusProxy.new_finish(result);
          void this.connected(proxy, connection, cancellable, episode);
        } catch (error) {
          this.report("cannot make a proxy of clan-sessiond", error);
        }
      });
  }

  private dropEpisode: (() => void) | undefined;

  private async connected(proxy: Gio.DBusProxy, connection: Gio.DBusConnection, cancellable: Gio.Cancellable, episode: Lifetime): Promise<void> {
    if (episode.isEnded) return;
    const signalId = proxy.connect("g-signal", (_proxy, _sender, name, parameters) => this.onSignal(name, parameters));
    const propertiesId = proxy.connect("g-properties-changed", () => this.listener.changed());
    episode.add("clan-sessiond proxy signals", () => {
      proxy.disconnect(signalId);
      proxy.disconnect(propertiesId);
    });
    try {
      this.methods = await this.introspectMethods(connection, cancellable);
      const list = await this.invoke(proxy, SESSION_METHODS.listNetworks, null, cancellable);
      if (episode.isEnded) return;
      this.replaceNetworks(list);
      this.proxy = proxy;
      episode.add("clan-sessiond proxy", () => {
        this.proxy = undefined;
      });
      this.listener.connectedChanged(true);
    } catch (error) {
      if (!episode.isEnded) this.report("cannot read clan-sessiond's networks", error);
    }
  }

  private vanished(): void {
    const wasConnected = this.proxy !== undefined;
    this.dropConnection();
    if (wasConnected) this.listener.connectedChanged(false);
  }

  private dropConnection(): void {
    this.dropEpisode?.();
    this.dropEpisode = undefined;
    this.proxy = undefined;
    this.cancellable = undefined;
    this.networks.clear();
    this.methods = new Set();
  }

  private onSignal(name: string, parameters: GLib.Variant): void {
    if (name === "NetworkChanged") {
      try {
        const next = decodeNetworkStatus((parameters.recursiveUnpack() as unknown[])[0]);
        const previous = this.networks.get(next.name);
        this.networks.set(next.name, next);
        this.listener.changed(previous, next);
      } catch (error) {
        this.report("clan-sessiond sent an invalid NetworkChanged", error);
      }
    } else if (name === "NetworksChanged" && this.proxy && this.cancellable) {
      // Names only: the statuses of added networks come from a fresh list.
      const proxy = this.proxy;
      this.invoke(proxy, SESSION_METHODS.listNetworks, null, this.cancellable).then((list) => {
        if (this.proxy !== proxy) return;
        this.replaceNetworks(list);
        this.listener.changed();
      }, (error) => this.report("cannot list clan-sessiond's networks", error));
    }
  }

  private replaceNetworks(list: GLib.Variant): void {
    this.networks.clear();
    for (const raw of (list.recursiveUnpack() as unknown[][])[0] ?? []) {
      try {
        const status = decodeNetworkStatus(raw);
        this.networks.set(status.name, status);
      } catch (error) {
        this.report("clan-sessiond listed an invalid network", error);
      }
    }
  }

  /** Which methods this clan-sessiond offers: Rebuild, Rollback and BackupNow only exist in newer versions. */
  private async introspectMethods(connection: Gio.DBusConnection, cancellable: Gio.Cancellable): Promise<Set<string>> {
    const { Gio, GLib } = this.platform;
    const reply = await new Promise<GLib.Variant>((resolve, reject) => {
      connection.call(SESSION_BUS_NAME, SESSION_MANAGER_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", null,
        new GLib.VariantType("(s)"), Gio.DBusCallFlags.NONE, -1, cancellable, (_source, result) => {
          try {
            resolve(connection.call_finish(result));
          } catch (error) {
            reject(error);
          }
        });
    });
    const [xml] = reply.deepUnpack() as [string];
    const info = Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(SESSION_MANAGER_INTERFACE);
    return new Set((info?.methods ?? []).map((method) => method.name ?? ""));
  }

  private invoke(proxy: Gio.DBusProxy, method: string, parameters: GLib.Variant | null, cancellable: Gio.Cancellable): Promise<GLib.Variant> {
    const { Gio } = this.platform;
    return new Promise((resolve, reject) => {
      proxy.call(method, parameters, Gio.DBusCallFlags.NONE, -1, cancellable, (_source, result) => {
        try {
          resolve(proxy.call_finish(result));
        } catch (error) {
          reject(new Error(this.errorText(error)));
        }
      });
    });
  }

  private errorText(error: unknown): string {
    const { Gio } = this.platform;
    if (error instanceof Error) return error.message;
    const glibError = error as GLib.Error;
    if (glibError && typeof glibError.message === "string") {
      Gio.DBusError.strip_remote_error(glibError);
      return glibError.message;
    }
    return String(error);
  }

  private report(what: string, error: unknown): void {
    const text = this.errorText(error);
    if (!/cancel/i.test(text)) this.platform.log(`${what}: ${text}`);
  }
}
