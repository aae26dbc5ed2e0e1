import { interface as dbusInterface, sessionBus, type MessageBus } from "@jellybrick/dbus-next";

// A notification daemon for tests: it owns org.freedesktop.Notifications on the test's bus, as mako or GNOME
// Shell would, and records what it was asked to show.

const { Interface, method } = dbusInterface;

export interface ShownNotification {
  summary: string;
  body: string;
}

class NotificationsInterface extends Interface {
  readonly shown: ShownNotification[] = [];
  private nextId = 1;

  constructor(private readonly capabilities: string[]) {
    super("org.freedesktop.Notifications");
  }

  @method({ inSignature: "susssasa{sv}i", outSignature: "u" })
  Notify(_app: string, _replaces: number, _icon: string, summary: string, body: string) {
    this.shown.push({ summary, body });
    return this.nextId++;
  }

  @method({ inSignature: "", outSignature: "as" })
  GetCapabilities() {
    return this.capabilities;
  }
}

/** `capabilities` as GetCapabilities answers: "body-markup" makes it a server that reads markup in bodies, as
 *  mako and GNOME Shell do; `shown` then holds the bodies as sent, markup and all. */
export async function startNotificationServer(busAddress: string, capabilities = ["body"]): Promise<{ shown: ShownNotification[]; stop(): void }> {
  const bus: MessageBus = sessionBus({ busAddress });
  const server = new NotificationsInterface(capabilities);
  bus.export("/org/freedesktop/Notifications", server);
  await bus.requestName("org.freedesktop.Notifications", 0);
  return { shown: server.shown, stop: () => bus.disconnect() };
}
