import { interface as dbusInterface, sessionBus, type MessageBus } from "@jellybrick/dbus-next";

// A notification server with buttons, on the test's bus, that answers the questions it is asked in turn with
// the given action keys, as a user clicking would ("accept" or "cancel" for clanctl join's questions).

const { Interface, method, signal } = dbusInterface;

export interface AskedNotification {
  summary: string;
  body: string;
  actions: string[];
}

class AnsweringNotifications extends Interface {
  readonly asked: AskedNotification[] = [];
  constructor(private readonly answers: string[]) {
    super("org.freedesktop.Notifications");
  }
  @method({ inSignature: "susssasa{sv}i", outSignature: "u" })
  Notify(_app: string, _replaces: number, _icon: string, summary: string, body: string, actions: string[]) {
    this.asked.push({ summary, body, actions });
    const id = this.asked.length;
    const answer = this.answers[this.asked.filter((asked) => asked.actions.length > 0).length - 1];
    if (actions.length > 0 && answer !== undefined) setTimeout(() => this.ActionInvoked(id, answer), 50);
    return id;
  }
  @method({ inSignature: "", outSignature: "as" })
  GetCapabilities() {
    return ["body", "actions"];
  }
  @signal({ signature: "us" })
  ActionInvoked(id: number, key: string) {
    return [id, key];
  }
}

export async function startAnsweringNotifications(busAddress: string, answers: string[]): Promise<{ asked: AskedNotification[]; stop(): void }> {
  const bus: MessageBus = sessionBus({ busAddress });
  const server = new AnsweringNotifications(answers);
  bus.export("/org/freedesktop/Notifications", server);
  await bus.requestName("org.freedesktop.Notifications", 0);
  return { asked: server.asked, stop: () => bus.disconnect() };
}
