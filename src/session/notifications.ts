import type { MessageBus } from "@jellybrick/dbus-next";
import { DesktopNotifications, type Urgency } from "../shared/desktop-notifications.js";
import { errorMessage } from "../shared/errors.js";

// clan-sessiond's notices (a job's outcome, a security event) as desktop notifications. A session without a
// notification daemon still works: the failure is logged, the action is not affected. The server is looked up
// for each notice, so one that starts (or restarts) after clan-sessiond is found.

export type Notify = (summary: string, body: string, urgency: Urgency) => void;

export function desktopNotifier(bus: MessageBus, log: (message: string) => void): Notify {
  return (summary, body, urgency) => {
    void (async () => {
      const notifications = await DesktopNotifications.connect(bus);
      await notifications.show({ summary, body, urgency });
    })().catch((error: unknown) => log(`notification "${summary}" not shown: ${errorMessage(error)}`));
  };
}
