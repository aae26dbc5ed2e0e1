import { busAddress } from "./dbus-address.js";

// What clan-sessiond and clan-viewer agree on: the viewer's command line, and the exit status by which the viewer
// says it cannot run on this host at all (node-gtk missing), which no restart would change.

/** EX_UNAVAILABLE of sysexits.h. */
export const VIEWER_UNAVAILABLE_EXIT = 69;

/** The viewer's limit on the label it draws (src/viewer/main.ts). */
export const VIEWER_LABEL_LIMIT = 64;

export function viewerArguments({ displaySocket, label, colour }: { displaySocket: string; label: string; colour: string }): string[] {
  return ["--address", busAddress(displaySocket), "--label", [...label].slice(0, VIEWER_LABEL_LIMIT).join(""), "--colour", colour];
}
