import type { NetworkStatus } from "./network-status.js";

// Failures become desktop notifications once, when they happen: a state that stays failed is not announced
// again on every status update, and the first status after (re)connecting is not news. A failed build or
// backup is not among them: clan-sessiond itself notifies the outcome of those (through the notification
// server, which is GNOME Shell), and a second notice of the same failure would only repeat it.

export interface Notice {
  title: string;
  body: string;
}

export function failureNotices(previous: NetworkStatus | undefined, next: NetworkStatus): Notice[] {
  if (previous === undefined) return [];
  if (previous.vmState === "failed" || next.vmState !== "failed") return [];
  return [{ title: `${next.label}: the VM failed`, body: next.error || "clan-vmd gave no reason" }];
}

export function configErrorNotice(previous: string, next: string): Notice | undefined {
  if (next === "" || next === previous) return undefined;
  return { title: "clan-desktop: config rejected", body: `The last good config stays in force. ${next.slice(0, 400)}` };
}

/** A call the user asked for (menu item, keybinding) was refused; a job's own failure is clan-sessiond's to tell. */
export function actionFailureNotice(what: string, network: string, message: string): Notice {
  return { title: `${network}: ${what} failed`, body: message.slice(0, 400) };
}
