import { createInterface } from "node:readline/promises";
import { Variant, type MessageBus } from "@jellybrick/dbus-next";
import { withoutMarkup } from "../shared/shown-text.js";
import { ClanError, errorMessage } from "../shared/errors.js";

// How `clanctl join` gets a yes (twice: to fetch, then to join). A join fetches code and runs it in a VM, so it is never implied: a terminal asks
// y/N; a click on a link in a browser (`--from-desktop`, no terminal) asks with a desktop notification that has
// Join and Cancel buttons; a script says --yes. With neither a terminal nor a notification server that shows
// buttons, nothing is joined and the user is told how to do it on a terminal.

const NOTIFICATIONS = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH = "/org/freedesktop/Notifications";
const DESKTOP_ANSWER_TIMEOUT_MS = 5 * 60_000;

export async function confirmOnTerminal(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/** Asks with a notification whose buttons are `accept` (e.g. "Fetch", "Join") and Cancel. */
export async function confirmOnDesktop(bus: MessageBus, summary: string, body: string, accept: string, terminalHint: string): Promise<boolean> {
  let notifications;
  try {
    const object = await bus.getProxyObject(NOTIFICATIONS, NOTIFICATIONS_PATH);
    notifications = object.getInterface(NOTIFICATIONS) as unknown as NotificationsProxy;
  } catch (error) {
    throw new ClanError("InvalidState", `no notification server to ask whether to join (${errorMessage(error)}); ${terminalHint}`);
  }
  const capabilities = await notifications.GetCapabilities();
  if (!capabilities.includes("actions")) {
    await notifications.Notify("clan-desktop", 0, "", summary, `Your notification server shows no buttons, so nothing was joined.\n${terminalHint}`, [], {}, -1);
    throw new ClanError("InvalidState", `the notification server shows no buttons, so it cannot ask whether to join; ${terminalHint}`);
  }
  return new Promise<boolean>((resolve, reject) => {
    let id: number | undefined;
    const early: [number, boolean][] = [];
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      notifications.off("ActionInvoked", onAction);
      notifications.off("NotificationClosed", onClosed);
      resolve(answer);
    };
    const settle = (notification: number, answer: boolean) => {
      if (id === undefined) early.push([notification, answer]);
      else if (notification === id) finish(answer);
    };
    const onAction = (notification: number, key: string) => settle(notification, key === "accept");
    const onClosed = (notification: number) => settle(notification, false);
    const timer = setTimeout(() => finish(false), DESKTOP_ANSWER_TIMEOUT_MS);
    notifications.on("ActionInvoked", onAction);
    notifications.on("NotificationClosed", onClosed);
    // Critical urgency and no expiry: the question stays until it is answered or dismissed.
    notifications
      .Notify("clan-desktop", 0, "", summary, withoutMarkup(body), ["accept", accept, "cancel", "Cancel"], { urgency: new Variant("y", 2) }, 0)
      .then((assigned) => {
        id = assigned;
        const answered = early.find(([notification]) => notification === assigned);
        if (answered) finish(answered[1]);
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        reject(new ClanError("InvalidState", `the notification server refused the question (${errorMessage(error)}); ${terminalHint}`));
      });
  });
}

interface NotificationsProxy {
  GetCapabilities(): Promise<string[]>;
  Notify(app: string, replaces: number, icon: string, summary: string, body: string, actions: string[], hints: Record<string, Variant>, timeout: number): Promise<number>;
  on(event: "ActionInvoked", listener: (id: number, key: string) => void): void;
  on(event: "NotificationClosed", listener: (id: number, reason: number) => void): void;
  off(event: string, listener: (...args: never[]) => void): void;
}
