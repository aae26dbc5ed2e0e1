import { createInterface } from "node:readline/promises";
import type { MessageBus } from "@jellybrick/dbus-next";
import { DesktopNotifications } from "../shared/desktop-notifications.js";
import { ClanError, errorMessage } from "../shared/errors.js";

// How `clanctl join` gets a yes (twice: to fetch, then to join). A join fetches code and runs it in a VM, so it is never implied: a terminal asks
// y/N; a click on a link in a browser (`--from-desktop`, no terminal) asks with a desktop notification that has
// Join and Cancel buttons; a script says --yes. With neither a terminal nor a notification server that shows
// buttons, nothing is joined and the user is told how to do it on a terminal.

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
  let notifications: DesktopNotifications;
  try {
    notifications = await DesktopNotifications.connect(bus);
  } catch (error) {
    throw new ClanError("InvalidState", `no notification server to ask whether to join (${errorMessage(error)}); ${terminalHint}`);
  }
  if (!(await notifications.capabilities()).includes("actions")) {
    await notifications.show({ summary, body: `Your notification server shows no buttons, so nothing was joined.\n${terminalHint}` });
    throw new ClanError("InvalidState", `the notification server shows no buttons, so it cannot ask whether to join; ${terminalHint}`);
  }
  return new Promise<boolean>((resolve, reject) => {
    let id: number | undefined;
    const early: [number, boolean][] = [];
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(answer);
    };
    const settle = (notification: number, answer: boolean) => {
      if (id === undefined) early.push([notification, answer]);
      else if (notification === id) finish(answer);
    };
    const unsubscribe = notifications.onAnswer((answer) => settle(answer.id, "action" in answer && answer.action === "accept"));
    const timer = setTimeout(() => finish(false), DESKTOP_ANSWER_TIMEOUT_MS);
    // Critical urgency and no expiry: the question stays until it is answered or dismissed.
    const actions = [{ key: "accept", label: accept }, { key: "cancel", label: "Cancel" }];
    notifications
      .show({ summary, body, actions, urgency: "critical", expireTimeoutMs: 0 })
      .then((assigned) => {
        id = assigned;
        const answered = early.find(([notification]) => notification === assigned);
        if (answered) finish(answered[1]);
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        unsubscribe();
        reject(new ClanError("InvalidState", `the notification server refused the question (${errorMessage(error)}); ${terminalHint}`));
      });
  });
}
