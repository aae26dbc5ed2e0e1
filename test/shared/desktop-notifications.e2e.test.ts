import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DesktopNotifications, type NotificationAnswer } from "../../src/shared/desktop-notifications.js";
import { startAnsweringNotifications } from "../helpers/answering-notifications.js";
import { startNotificationServer } from "../helpers/notification-server.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";

// The one notification client against notification servers on a real dbus-daemon: one that reads markup, one
// that does not, one with buttons. The text shown is what a hostile guest or network could have written.

let bus: SessionBus;
let client: MessageBus;
const stops: (() => void)[] = [];

beforeAll(async () => {
  bus = await startSessionBus();
  client = sessionBus({ busAddress: bus.address });
});
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});
afterAll(async () => {
  client.disconnect();
  await bus.stop();
});

const HOSTILE_BODY = '<a href="https://evil.example">update</a> & <img src="x">\u001b[31m\u202Ered';

describe("DesktopNotifications", () => {
  it("escapes markup in the body for a server that reads it, and control characters everywhere", async () => {
    const server = await startNotificationServer(bus.address, ["body", "body-markup"]);
    stops.push(server.stop);
    await (await DesktopNotifications.connect(client)).show({ summary: "family\u001b[2J: failed", body: HOSTILE_BODY, urgency: "critical" });
    expect(server.shown).toHaveLength(1);
    const [shown] = server.shown;
    expect(shown!.body).not.toMatch(/[<>\u001b\u202E]/);
    expect(shown!.body).toContain("&lt;a href=");
    expect(shown!.body).toContain(" &amp; ");
    expect(shown!.summary).not.toContain("\u001b");
    expect(shown!.summary).toMatch(/^family.*: failed$/);
  });

  it("leaves & < > as they are for a server that shows bodies as plain text", async () => {
    const server = await startNotificationServer(bus.address, ["body"]);
    stops.push(server.stop);
    await (await DesktopNotifications.connect(client)).show({ summary: "s", body: HOSTILE_BODY });
    const [shown] = server.shown;
    expect(shown!.body).toContain('<a href="https://evil.example">update</a> & <img');
    expect(shown!.body).not.toMatch(/[\u001b\u202E]/);
  });

  it("passes buttons and brings back the key of the one clicked", async () => {
    const server = await startAnsweringNotifications(bus.address, ["accept"]);
    stops.push(server.stop);
    const notifications = await DesktopNotifications.connect(client);
    expect(await notifications.capabilities()).toContain("actions");
    const answers: NotificationAnswer[] = [];
    const answered = new Promise<void>((resolve) => {
      const unsubscribe = notifications.onAnswer((answer) => {
        answers.push(answer);
        unsubscribe();
        resolve();
      });
    });
    const id = await notifications.show({ summary: "Join?", body: "b", actions: [{ key: "accept", label: "Join" }, { key: "cancel", label: "Cancel" }] });
    await answered;
    expect(server.asked).toEqual([{ summary: "Join?", body: "b", actions: ["accept", "Join", "cancel", "Cancel"] }]);
    expect(answers).toEqual([{ id, action: "accept" }]);
  });
});
