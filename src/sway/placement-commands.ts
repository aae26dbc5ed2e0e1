import type { WindowPlacement } from "../session/window-manager-backend.js";
import { addMark, criteria, moveToWorkspace, setTitleFormat, type WmDialect } from "./commands.js";

// The commands that put a network's window on its workspace with its trusted decoration: a title prefix
// "[label]" in the network's colour, drawn by the window manager around whatever title the guest sets, and a
// mark naming the network (for users' own rules). Every name goes through commands.ts, which quotes or refuses
// it; the window is addressed by con_id, a number.

export function placeWindowCommand(conId: number, placement: WindowPlacement, dialect: WmDialect): string {
  const window = { conId };
  return [
    moveToWorkspace(window, placement.workspace, dialect),
    // A client may ask for no frame (GTK's client-side decorations do, and i3 obeys); the trusted prefix
    // lives in the frame's title bar, so the frame is not the client's choice.
    `${criteria(window, dialect)} border normal`,
    setTitleFormat(window, { label: placement.label, background: placement.colour, foreground: "#ffffff" }, dialect),
    addMark(window, `clan:${placement.network}`, dialect),
  ].join("; ");
}
