import type * as MessageTray from "resource:///org/gnome/shell/ui/messageTray.js";
import type { Lifetime } from "../core/lifetime.js";
import type { Notice } from "../core/notifications.js";
import type { Platform } from "./platform.js";

// Failures the user must see even when they were away: notifications of the extension's own message tray source,
// not transient, so each stays in GNOME's notification list until the user dismisses it. (Main.notify() makes
// transient ones, which vanish with their banner.) The source goes away with its last notification, so it is
// made again when needed; disable() removes it and its notifications.

const SOURCE_TITLE = "clan-desktop";
const SOURCE_ICON = "network-vpn-symbolic";

/** GNOME 46 made notifications GObject properties and renamed showNotification(); 43–45 take positional arguments. */
interface PositionalSource {
  showNotification(notification: MessageTray.Notification): void;
}
interface PositionalNotification {
  setTransient(transient: boolean): void;
  setUrgency(urgency: MessageTray.Urgency): void;
}
type PositionalConstructors = {
  Source: new (title: string, iconName: string) => MessageTray.Source;
  Notification: new (source: MessageTray.Source, title: string, body: string) => MessageTray.Notification;
};

export class Notifier {
  private source: MessageTray.Source | undefined;

  constructor(
    private readonly platform: Platform,
    lifetime: Lifetime,
  ) {
    lifetime.add("notification source", () => {
      if (this.liveSource()) this.source!.destroy(platform.MessageTray.NotificationDestroyedReason.SOURCE_CLOSED);
      this.source = undefined;
    });
  }

  show(notice: Notice): void {
    const { MessageTray } = this.platform;
    const source = this.liveSource() ?? this.makeSource();
    const urgency = MessageTray.Urgency.HIGH;
    if (this.propertiesApi()) {
      source.addNotification(new MessageTray.Notification({ source, title: notice.title, body: notice.body, urgency, isTransient: false }));
      return;
    }
    const positional = MessageTray as unknown as PositionalConstructors;
    const notification = new positional.Notification(source, notice.title, notice.body);
    (notification as unknown as PositionalNotification).setTransient(false);
    (notification as unknown as PositionalNotification).setUrgency(urgency);
    (source as unknown as PositionalSource).showNotification(notification);
  }

  private makeSource(): MessageTray.Source {
    const { MessageTray, Main } = this.platform;
    const source = this.propertiesApi()
      ? new MessageTray.Source({ title: SOURCE_TITLE, iconName: SOURCE_ICON })
      : new (MessageTray as unknown as PositionalConstructors).Source(SOURCE_TITLE, SOURCE_ICON);
    Main.messageTray.add(source);
    this.source = source;
    return source;
  }

  /** The source, while the tray still has it. No "destroy" handler: GNOME 43 keeps destroyed sources reachable
   *  (the message list's signal tracker), and a handler would keep the extension alive after disable(). */
  private liveSource(): MessageTray.Source | undefined {
    return this.source && this.platform.Main.messageTray.getSources().includes(this.source) ? this.source : undefined;
  }

  private propertiesApi(): boolean {
    return typeof (this.platform.MessageTray.Source.prototype as { addNotification?: unknown }).addNotification === "function";
  }
}
