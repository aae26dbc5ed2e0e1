import type { WindowPlacement } from "../session/window-manager-backend.js";
import { escapeMarkupText, quoteArgument, UnsafeCommandArgumentError, type WmDialect } from "./command-syntax.js";

// The commands that put a network's window on its workspace with its trusted decoration: a title prefix
// "[label]" in the network's colour, drawn by the window manager around whatever title the guest sets, and a
// mark naming the network (for users' own rules). Every user- or guest-supplied part is escaped or rejected
// by command-syntax.ts; the window is addressed by con_id, a number.

const COLOUR = /^#[0-9a-fA-F]{6}$/;

export function titleFormat(decoration: Pick<WindowPlacement, "label" | "colour">): string {
  if (!COLOUR.test(decoration.colour)) {
    throw new UnsafeCommandArgumentError("not-a-colour", decoration.colour, 'a colour is "#rrggbb"');
  }
  const label = escapeMarkupText(decoration.label);
  return `<span background='${decoration.colour}' foreground='#ffffff'><b>[${label}]</b></span> %title`;
}

export function placeWindowCommand(conId: number, placement: WindowPlacement, dialect: WmDialect): string {
  if (!Number.isSafeInteger(conId) || conId < 0) throw new UnsafeCommandArgumentError("not-an-id", String(conId), "not a container id");
  const target = `[con_id=${conId}]`;
  return [
    `${target} move container to workspace ${quoteArgument(placement.workspace, dialect)}`,
    // A client may ask for no frame (GTK's client-side decorations do, and i3 obeys); the trusted prefix
    // lives in the frame's title bar, so the frame is not the client's choice.
    `${target} border normal`,
    `${target} title_format ${quoteArgument(titleFormat(placement), dialect)}`,
    `${target} mark --add ${quoteArgument(`clan:${placement.network}`, dialect)}`,
  ].join("; ");
}

export function focusWorkspaceCommand(workspace: string, dialect: WmDialect): string {
  return `workspace ${quoteArgument(workspace, dialect)}`;
}
