import type Gio from "gi://Gio";
import type GLib from "gi://GLib";
import type { DbusCall } from "../core/actions.js";
import { SESSION_METHODS, VIEWER_PIDS_PROPERTY } from "../core/dbus-names.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../core/session-contract.js";
import type { Lifetime } from "../core/lifetime.js";
import { KnownNetworks } from "../core/known-networks.js";
import type { NetworkStatus } from "../core/network-status.js";
import type { Platform } from "./platform.js";

// The extension's link to clan-sessiond. Every call is asynchronous (a synchronous D-Bus call would freeze the
// whole shell while the daemon is busy). The link follows the bus name: when clan-sessiond appears it
// subscribes to its signals, reads which methods exist (introspection), its properties and its networks; when
// it vanishes everything of that connection is dropped, and the next appearance starts again.
// No Gio.DBusProxy: a proxy gives its signal subscriptions back only when the garbage collector finalises it,
// so after disable() the shell would still carry them for a while. Explicit subscriptions end at once.

export interface SessionSnapshot {
  connected: boolean;
  networks: ReadonlyMap<string, NetworkStatus>;
  availableMethods: ReadonlySet<string>;
  configError: string;
  focusedNetwork: string;
  /** network → pid of its host display process (ViewerPids); empty from a clan-sessiond without it. */
  viewerPids: Readonly<Record<string, number>>;
}

export interface SessionListener {
  /** Anything in the snapshot changed; `previous` is the status of the changed network before the change. */
  changed(previous?: NetworkStatus, next?: NetworkStatus): void;
  connectedChanged(connected: boolean): void;
}

interface Peer {
  connection: Gio.DBusConnection;
  /** clan-sessiond's unique name: calls and subscriptions go to this process, not to whoever owns the name next. */
  owner: string;
  cancellable: Gio.Cancellable;
}

export class SessionConnection {
  private peer: Peer | undefined;
  private connected = false;
  private readonly networks = new KnownNetworks((error) => this.report("clan-sessiond listed an invalid network", error));
  private readonly properties = new Map<string, unknown>();
  private methods = new Set<string>();
  private endEpisode: (() => void) | undefined;

  constructor(
    private readonly platform: Platform,
    private readonly lifetime: Lifetime,
    private readonly listener: SessionListener,
  ) {}

  start(): void {
    const { Gio } = this.platform;
    const watch = Gio.bus_watch_name(Gio.BusType.SESSION, SESSION_BUS_NAME, Gio.BusNameWatcherFlags.NONE,
      (connection, _name, owner) => void this.appeared(connection, owner), () => this.vanished());
    this.lifetime.add("watch of clan-sessiond's bus name", () => Gio.bus_unwatch_name(watch));
  }

  snapshot(): SessionSnapshot {
    const pids = this.properties.get(VIEWER_PIDS_PROPERTY);
    return {
      connected: this.connected,
      networks: this.networks.all,
      availableMethods: this.methods,
      configError: String(this.properties.get("ConfigError") ?? ""),
      focusedNetwork: String(this.properties.get("FocusedNetwork") ?? ""),
      viewerPids: pids !== null && typeof pids === "object" ? (pids as Record<string, number>) : {},
    };
  }

  /** Calls a method of clan-sessiond's manager; resolves to its reply. */
  async call(call: DbusCall): Promise<GLib.Variant> {
    if (!this.peer || !this.connected) throw new Error("clan-sessiond is not running");
    const { GLib } = this.platform;
    return await this.invoke(this.peer, SESSION_MANAGER_INTERFACE, call.method, new GLib.Variant(call.signature, call.args));
  }

  private async appeared(connection: Gio.DBusConnection, owner: string): Promise<void> {
    this.drop();
    const { Gio } = this.platform;
    const episode = this.lifetime.child("connection to clan-sessiond");
    this.endEpisode = () => episode.end();
    const peer: Peer = { connection, owner, cancellable: new Gio.Cancellable() };
    episode.add("pending calls to clan-sessiond", () => peer.cancellable.cancel());
    this.peer = peer;
    const subscribe = (iface: string, handler: (signal: string, parameters: GLib.Variant) => void, arg0: string | null) => {
      const id = connection.signal_subscribe(owner, iface, null, SESSION_MANAGER_PATH, arg0, Gio.DBusSignalFlags.NONE,
        (_connection, _sender, _path, _iface, signal, parameters) => handler(signal, parameters));
      episode.add(`subscription to ${iface} signals`, () => connection.signal_unsubscribe(id));
    };
    subscribe(SESSION_MANAGER_INTERFACE, (signal, parameters) => this.onSignal(peer, signal, parameters), null);
    subscribe("org.freedesktop.DBus.Properties", (_signal, parameters) => this.onPropertiesChanged(parameters), SESSION_MANAGER_INTERFACE);
    try {
      this.methods = await this.introspectMethods(peer);
      const all = await this.invoke(peer, "org.freedesktop.DBus.Properties", "GetAll", new this.platform.GLib.Variant("(s)", [SESSION_MANAGER_INTERFACE]));
      const listing = this.networks.listAsked();
      const list = await this.invoke(peer, SESSION_MANAGER_INTERFACE, SESSION_METHODS.listNetworks, null).catch((error: unknown) => {
        listing.drop();
        throw error;
      });
      if (episode.isEnded) {
        listing.drop();
        return;
      }
      this.properties.clear();
      for (const [key, value] of Object.entries((all.recursiveUnpack() as [Record<string, unknown>])[0])) this.properties.set(key, value);
      listing.apply(listEntries(list));
      this.connected = true;
      this.listener.connectedChanged(true);
    } catch (error) {
      if (!episode.isEnded) this.report("cannot read clan-sessiond's state", error);
    }
  }

  private vanished(): void {
    const wasConnected = this.connected;
    this.drop();
    if (wasConnected) this.listener.connectedChanged(false);
  }

  private drop(): void {
    this.endEpisode?.();
    this.endEpisode = undefined;
    this.peer = undefined;
    this.connected = false;
    this.networks.clear();
    this.properties.clear();
    this.methods = new Set();
  }

  private onSignal(peer: Peer, name: string, parameters: GLib.Variant): void {
    if (name === "NetworkChanged") {
      try {
        const { previous, next } = this.networks.changed((parameters.recursiveUnpack() as unknown[])[0]);
        if (this.connected) this.listener.changed(previous, next);
      } catch (error) {
        this.report("clan-sessiond sent an invalid NetworkChanged", error);
      }
    } else if (name === "NetworksChanged") {
      // Names only: the statuses of added networks come from a fresh list.
      const listing = this.networks.listAsked();
      this.invoke(peer, SESSION_MANAGER_INTERFACE, SESSION_METHODS.listNetworks, null).then((list) => {
        if (this.peer !== peer) {
          listing.drop();
          return;
        }
        listing.apply(listEntries(list));
        this.listener.changed();
      }, (error) => {
        listing.drop();
        this.report("cannot list clan-sessiond's networks", error);
      });
    }
  }

  private onPropertiesChanged(parameters: GLib.Variant): void {
    const [, changed, invalidated] = parameters.recursiveUnpack() as [string, Record<string, unknown>, string[]];
    for (const [key, value] of Object.entries(changed)) this.properties.set(key, value);
    for (const key of invalidated) this.properties.delete(key);
    if (this.connected) this.listener.changed();
  }

  /** Which methods this clan-sessiond offers: BackupNow, for one, only exists in newer versions. */
  private async introspectMethods(peer: Peer): Promise<Set<string>> {
    const reply = await this.invoke(peer, "org.freedesktop.DBus.Introspectable", "Introspect", null);
    const [xml] = reply.deepUnpack() as [string];
    const info = this.platform.Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(SESSION_MANAGER_INTERFACE);
    return new Set((info?.methods ?? []).map((method) => method.name ?? ""));
  }

  private invoke(peer: Peer, iface: string, method: string, parameters: GLib.Variant | null): Promise<GLib.Variant> {
    const { Gio } = this.platform;
    return new Promise((resolve, reject) => {
      peer.connection.call(peer.owner, SESSION_MANAGER_PATH, iface, method, parameters, null, Gio.DBusCallFlags.NONE, -1,
        peer.cancellable, (_source, result) => {
          try {
            resolve(peer.connection.call_finish(result));
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

function listEntries(list: GLib.Variant): unknown[] {
  return (list.recursiveUnpack() as unknown[][])[0] ?? [];
}
