import { z } from "zod";
import { dictionary } from "./contracts/define.js";

// clan-vmd's SecurityEvent signal: a call that lowered a network's guard went through — a command ran as root in
// its guest, a blocked VPN peer was let back, its state disk was replaced. clan-vmd knows nothing of the desktop;
// clan-sessiond turns each event into a desktop notification (docs/dbus.md, "Who may call what"), so a call made
// straight to clan-vmd is seen as surely as one made through clan-sessiond.

export const SecurityAction = z.enum(["guest-exec", "peer-unblocked", "state-disk-replaced"]);
export type SecurityAction = z.infer<typeof SecurityAction>;

export const SecurityEvent = z.object({
  network: z.string(),
  action: SecurityAction,
  /** What happened, for a person: the command and its exit status, the peer, the image. */
  detail: z.string(),
});
export type SecurityEvent = z.infer<typeof SecurityEvent>;

export const SecurityEventDictionary = dictionary("SecurityEvent", SecurityEvent, {
  network: { codec: "s", doc: "the network whose guard was lowered" },
  action: { codec: "s", doc: "`guest-exec`, `peer-unblocked` or `state-disk-replaced`" },
  detail: { codec: "s", doc: "for a person: the command and its exit status, the peer's name and key, the image" },
});
