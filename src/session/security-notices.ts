import type { SecurityAction, SecurityEvent } from "../shared/security-events.js";
import type { Notify } from "./notifications.js";

// Every call that lowers a network's guard reaches the user as a desktop notification naming the network and what
// happened, whichever program made it: the session bus lets any program of the user call clan-vmd directly, so
// the notification is raised from clan-vmd's SecurityEvent signal rather than from clan-sessiond's own methods.
// A restore that clan-sessiond runs itself tells its outcome with the snapshot's date and id (backup-actions.ts),
// so the disk replacement it causes is not told twice.

const SUMMARIES: Record<SecurityAction, string> = {
  "guest-exec": "a command ran in the guest",
  "peer-unblocked": "VPN peer unblocked",
  "state-disk-replaced": "state disk replaced",
};

export interface SecurityNoticeOptions {
  notify: Notify;
  /** Whether clan-sessiond itself is restoring this network's state disk. */
  restoring: (network: string) => boolean;
  log: (message: string) => void;
}

export function securityNotifier({ notify, restoring, log }: SecurityNoticeOptions): (event: SecurityEvent) => void {
  return (event) => {
    if (event.action === "state-disk-replaced" && restoring(event.network)) return;
    log(`${event.network}: ${SUMMARIES[event.action]}: ${event.detail}`);
    notify(`${event.network}: ${SUMMARIES[event.action]}`, event.detail, "normal");
  };
}
