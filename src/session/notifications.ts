import { Variant, type MessageBus } from "@jellybrick/dbus-next";
import { errorMessage } from "../shared/errors.js";
import { markupSafe, terminalSafe } from "../shared/untrusted-text.js";

// Desktop notifications through org.freedesktop.Notifications, whoever serves it (mako, dunst, GNOME Shell).
// A session without a notification daemon still works: the failure is logged, the action is not affected.
// Bodies carry text others control (a guest's error, a name from a backup's disk header), so where the server
// reads markup in bodies ("body-markup"), the body is escaped: it shows as text, never as a link or an image.

export type Urgency = "low" | "normal" | "critical";
const URGENCY_BYTE: Record<Urgency, number> = { low: 0, normal: 1, critical: 2 };

export type Notify = (summary: string, body: string, urgency: Urgency) => void;

interface NotificationsProxy {
  Notify(...args: unknown[]): Promise<number>;
  GetCapabilities(): Promise<string[]>;
}

export function desktopNotifier(bus: MessageBus, log: (message: string) => void): Notify {
  return (summary, body, urgency) => {
    void (async () => {
      const object = await bus.getProxyObject("org.freedesktop.Notifications", "/org/freedesktop/Notifications");
      const notifications = object.getInterface("org.freedesktop.Notifications") as unknown as NotificationsProxy;
      const readsMarkup = (await notifications.GetCapabilities()).includes("body-markup");
      const text = readsMarkup ? markupSafe(body, { maxChars: 2000 }) : terminalSafe(body, { multiline: true, maxChars: 2000 });
      await notifications.Notify("clan-desktop", 0, "", terminalSafe(summary, { maxChars: 200 }), text, [], {
        urgency: new Variant("y", URGENCY_BYTE[urgency]),
      }, -1);
    })().catch((error: unknown) => log(`notification "${summary}" not shown: ${errorMessage(error)}`));
  };
}
