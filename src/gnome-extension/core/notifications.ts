import type { NetworkStatus } from "./network-status.js";

// Failures become desktop notifications once, when they happen: a state that stays failed is not announced
// again on every status update, and the first status after (re)connecting is not news.

export interface Notice {
  title: string;
  body: string;
}

export function failureNotices(previous: NetworkStatus | undefined, next: NetworkStatus): Notice[] {
  if (previous === undefined) return [];
  const notices: Notice[] = [];
  const became = (field: "vmState" | "buildState" | "backupState") => previous[field] !== "failed" && next[field] === "failed";
  if (became("vmState")) notices.push({ title: `${next.label}: the VM failed`, body: next.error || "clan-vmd gave no reason" });
  if (became("buildState")) notices.push({ title: `${next.label}: the rebuild failed`, body: next.error || "see clanctl status for details" });
  if (became("backupState")) notices.push({ title: `${next.label}: the backup failed`, body: next.error || "see clanctl status for details" });
  return notices;
}

export function configErrorNotice(previous: string, next: string): Notice | undefined {
  if (next === "" || next === previous) return undefined;
  return { title: "clan-desktop: config rejected", body: `The last good config stays in force. ${next.slice(0, 400)}` };
}

/** A call the user asked for (menu item, keybinding) failed or was refused. */
export function actionFailureNotice(what: string, network: string, message: string): Notice {
  return { title: `${network}: ${what} failed`, body: message.slice(0, 400) };
}
