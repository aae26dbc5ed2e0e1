import type { Notify } from "./notifications.js";

// The user's `notifications` setting (config.json) applied to clan-sessiond's notices: job outcomes, backups and
// restores are shown only while it is on, read at each notice so that a hot-reloaded change applies at once.
// Security warnings do not pass through here: they are shown whatever the setting.

export function gatedNotify(notify: Notify, enabled: () => boolean): Notify {
  return (summary, body, urgency) => {
    if (enabled()) notify(summary, body, urgency);
  };
}
