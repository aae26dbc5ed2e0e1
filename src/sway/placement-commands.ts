import type { WindowPlacement } from "../session/window-manager-backend.js";
import { addMark, criteria, exitFullscreen, moveToWorkspace, setTitleFormat, type WmDialect } from "./commands.js";

// The commands that put a network's window on its workspace with its trusted decoration: a title prefix
// "[label]" in the network's colour, drawn by the window manager around whatever title the guest sets, and a
// mark naming the network (for users' own rules). Every name goes through commands.ts, which quotes or refuses
// it; the window is addressed by con_id, a number. A fullscreen window has no frame, so no prefix: a network's
// window is never left fullscreen (docs/session.md "Trusted windows").

export function placeWindowCommand(conId: number, placement: WindowPlacement, dialect: WmDialect): string {
  const window = { conId };
  return [
    moveToWorkspace(window, placement.workspace, dialect),
    // A client may ask for no frame (GTK's client-side decorations do, and i3 obeys); the trusted prefix
    // lives in the frame's title bar, so the frame is not the client's choice.
    `${criteria(window, dialect)} border normal`,
    // A client may map its window already fullscreen; later requests are undone by refuseFullscreenCommand.
    exitFullscreen(window, dialect),
    setTitleFormat(window, { label: placement.label, background: placement.colour, foreground: "#ffffff" }, dialect),
    addMark(window, `clan:${placement.network}`, dialect),
  ].join("; ");
}

/** Undoes a network window's entry into fullscreen, whoever asked for it (the guest's client, or the user). */
export function refuseFullscreenCommand(conId: number, dialect: WmDialect): string {
  return exitFullscreen({ conId }, dialect);
}
