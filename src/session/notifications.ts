import { Variant, type MessageBus } from "@jellybrick/dbus-next";
import { errorMessage } from "../shared/errors.js";
import { markupSafe, terminalSafe } from "../shared/untrusted-text.js";

// Desktop notifications through org.freedesktop.Notifications, whoever serves it (mako, dunst, GNOME Shell).
// A session without a notification daemon still works: the failure is logged, the action is not affected.

export type Urgency = "low" | "normal" | "critical";
const URGENCY_BYTE: Record<Urgency, number> = { low: 0, normal: 1, critical: 2 };

export type Notify = (summary: string, body: string, urgency: Urgency) => void;

export function desktopNotifier(bus: MessageBus, log: (message: string) => void): Notify {
  return (summary, body, urgency) => {
    void (async () => {
      const object = await bus.getProxyObject("org.freedesktop.Notifications", "/org/freedesktop/Notifications");
      const notifications = object.getInterface("org.freedesktop.Notifications") as unknown as {
        Notify(...args: unknown[]): Promise<number>;
      };
      // Bodies quote what guests, builds and hooks wrote; the spec lets a body carry markup, so it is escaped.
      await notifications.Notify("clan-desktop", 0, "", terminalSafe(summary, { maxChars: 200 }), markupSafe(body, { maxChars: 2000 }), [], {
        urgency: new Variant("y", URGENCY_BYTE[urgency]),
      }, -1);
    })().catch((error: unknown) => log(`notification "${summary}" not shown: ${errorMessage(error)}`));
  };
}
