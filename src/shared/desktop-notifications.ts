import { Variant, type MessageBus } from "@jellybrick/dbus-next";
import { markupSafe, terminalSafe } from "./untrusted-text.js";

// The one client of org.freedesktop.Notifications (the freedesktop notification spec), whoever serves it: mako,
// dunst, GNOME Shell. clan-sessiond tells the outcome of jobs with it and clanctl join asks its questions with it.
// Summaries and bodies carry text others control (a guest's error, a network's names), so they are made safe
// here for every caller: control characters escaped, and where the server reads markup in bodies
// ("body-markup") `& < >` as entities, so the text shows as text, never as a link or an image.

const NOTIFICATIONS = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH = "/org/freedesktop/Notifications";
const APP_NAME = "clan-desktop";
const SUMMARY_LIMIT = 200;
const BODY_LIMIT = 2000;

export type Urgency = "low" | "normal" | "critical";
const URGENCY_BYTE: Record<Urgency, number> = { low: 0, normal: 1, critical: 2 };

export interface DesktopNotification {
  summary: string;
  body: string;
  /** Without it the server's default applies. */
  urgency?: Urgency;
  /** Buttons, in order: `key` comes back in the answer, `label` is shown. Only with the "actions" capability. */
  actions?: readonly { key: string; label: string }[];
  /** Milliseconds; 0 stays until dismissed; absent: the server's default. */
  expireTimeoutMs?: number;
}

/** What became of a notification: a button was clicked (`action` is its key), or it was closed without one. */
export type NotificationAnswer = { id: number; action: string } | { id: number; closed: true };

interface NotificationsProxy {
  GetCapabilities(): Promise<string[]>;
  Notify(app: string, replaces: number, icon: string, summary: string, body: string, actions: string[], hints: Record<string, Variant>, timeout: number): Promise<number>;
  on(event: "ActionInvoked", listener: (id: number, key: string) => void): void;
  on(event: "NotificationClosed", listener: (id: number, reason: number) => void): void;
  off(event: "ActionInvoked" | "NotificationClosed", listener: (...args: never[]) => void): void;
}

export class DesktopNotifications {
  private capabilitiesAsked: Promise<string[]> | undefined;

  private constructor(private readonly proxy: NotificationsProxy) {}

  /** Fails when no notification server is on the bus. */
  static async connect(bus: MessageBus): Promise<DesktopNotifications> {
    const object = await bus.getProxyObject(NOTIFICATIONS, NOTIFICATIONS_PATH);
    return new DesktopNotifications(object.getInterface(NOTIFICATIONS) as unknown as NotificationsProxy);
  }

  /** The server's capabilities ("actions", "body-markup", …), asked once per connection. */
  capabilities(): Promise<string[]> {
    this.capabilitiesAsked ??= this.proxy.GetCapabilities();
    return this.capabilitiesAsked;
  }

  /** Shows `notification`; resolves to the id the server gave it. */
  async show(notification: DesktopNotification): Promise<number> {
    const readsMarkup = (await this.capabilities()).includes("body-markup");
    const body = readsMarkup
      ? markupSafe(notification.body, { maxChars: BODY_LIMIT })
      : terminalSafe(notification.body, { multiline: true, maxChars: BODY_LIMIT });
    const hints: Record<string, Variant> = notification.urgency ? { urgency: new Variant("y", URGENCY_BYTE[notification.urgency]) } : {};
    const actions = (notification.actions ?? []).flatMap(({ key, label }) => [key, label]);
    const summary = terminalSafe(notification.summary, { maxChars: SUMMARY_LIMIT });
    return this.proxy.Notify(APP_NAME, 0, "", summary, body, actions, hints, notification.expireTimeoutMs ?? -1);
  }

  /** Calls `listener` with every button click and close the server reports, for any notification; returns the
   *  unsubscribe. Subscribe before `show`: a quick answer may arrive before its id does. */
  onAnswer(listener: (answer: NotificationAnswer) => void): () => void {
    const onAction = (id: number, action: string) => listener({ id, action });
    const onClosed = (id: number) => listener({ id, closed: true });
    this.proxy.on("ActionInvoked", onAction);
    this.proxy.on("NotificationClosed", onClosed);
    return () => {
      this.proxy.off("ActionInvoked", onAction);
      this.proxy.off("NotificationClosed", onClosed);
    };
  }
}
