import {
  UnsafeCommandArgumentError,
  escapeMarkupText,
  exactRegex,
  quoteArgument,
  type WmDialect,
} from "./command-syntax.js";

// Typed builders for every command clan-desktop sends to sway or i3. A name from a user, a config or a guest
// reaches a command only through these, quoted or matched exactly (see command-syntax.ts), or is rejected.

export { UnsafeCommandArgumentError, escapeMarkupText, exactRegex, quoteArgument, type WmDialect } from "./command-syntax.js";

/** Which windows a command applies to. Strings match exactly (they are not regexes); all given fields must match. */
export interface Criteria {
  /** The WM's container id (tree node `id`). */
  conId?: number;
  /** sway only: the client's process id. */
  pid?: number;
  /** sway only: the Wayland app_id. */
  appId?: string;
  /** X11 WM_CLASS class (i3, sway's Xwayland windows). */
  windowClass?: string;
  /** X11 WM_CLASS instance. */
  instance?: string;
  /** The X11 window id (tree node `window`). */
  x11WindowId?: number;
  title?: string;
  mark?: string;
  workspace?: string;
}

const SWAY_ONLY: ReadonlySet<keyof Criteria> = new Set(["pid", "appId"]);

/** `[con_id=12 app_id="\Afoo\z"]`: numbers checked to be ids, strings matched exactly. */
export function criteria(selector: Criteria, dialect: WmDialect): string {
  const parts: string[] = [];
  const add = (key: keyof Criteria, token: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    if (dialect === "i3" && SWAY_ONLY.has(key)) {
      throw new UnsafeCommandArgumentError("unsupported-criterion", String(value), `i3 has no ${token} criterion`);
    }
    parts.push(typeof value === "number" ? `${token}=${assertId(value)}` : `${token}="${exactRegex(value)}"`);
  };
  add("conId", "con_id", selector.conId);
  add("pid", "pid", selector.pid);
  add("x11WindowId", "id", selector.x11WindowId);
  add("appId", "app_id", selector.appId);
  add("windowClass", "class", selector.windowClass);
  add("instance", "instance", selector.instance);
  add("title", "title", selector.title);
  add("mark", "con_mark", selector.mark);
  add("workspace", "workspace", selector.workspace);
  if (parts.length === 0) throw new UnsafeCommandArgumentError("empty", "", "criteria without any field would match every window");
  return `[${parts.join(" ")}]`;
}

// Words that sway (which compares keywords after removing quotes) would read as a keyword or flag instead of a
// name. i3 would accept them quoted, but a name must mean the same on both WMs.
const WORKSPACE_KEYWORDS = new Set(["next", "prev", "next_on_output", "prev_on_output", "back_and_forth", "current", "number"]);

/** Quotes a workspace name, rejecting what either WM would read as something else (or as i3-internal). */
export function quoteWorkspaceName(name: string, dialect: WmDialect): string {
  const lower = name.toLowerCase();
  if (WORKSPACE_KEYWORDS.has(lower) || lower.startsWith("--") || lower.startsWith("__")) {
    throw new UnsafeCommandArgumentError("reserved-word", name, "the window manager reads it as a keyword or an internal workspace");
  }
  return quoteArgument(name, dialect);
}

/**
 * Focuses (creating if needed) the workspace named `name`. --no-auto-back-and-forth: with
 * workspace_auto_back_and_forth set, focusing the current workspace would otherwise jump to the previous one.
 */
export function focusWorkspace(name: string, dialect: WmDialect): string {
  return `workspace --no-auto-back-and-forth ${quoteWorkspaceName(name, dialect)}`;
}

/** Moves the matching windows to workspace `name` (without auto back-and-forth, as in focusWorkspace). */
export function moveToWorkspace(selector: Criteria, name: string, dialect: WmDialect): string {
  return `${criteria(selector, dialect)} move --no-auto-back-and-forth container to workspace ${quoteWorkspaceName(name, dialect)}`;
}

/** Adds a mark to the matching window (a mark names one window: the WM takes it from any other). */
export function addMark(selector: Criteria, mark: string, dialect: WmDialect): string {
  if (mark.startsWith("--")) throw new UnsafeCommandArgumentError("reserved-word", mark, "sway reads it as a flag of mark");
  return `${criteria(selector, dialect)} mark --add ${quoteArgument(mark, dialect)}`;
}

/** Takes the matching windows out of fullscreen (a no-op for a window that is not fullscreen). */
export function exitFullscreen(selector: Criteria, dialect: WmDialect): string {
  return `${criteria(selector, dialect)} fullscreen disable`;
}

export interface TitlePrefix {
  /** Shown in brackets before the window's own title: `[label] title`. */
  label: string;
  /** #rrggbb */
  background: string;
  /** #rrggbb */
  foreground: string;
}

/**
 * The title_format that draws `[label]` in the network's colours before the window's own title. This is the only
 * per-window colour sway 1.7 and i3 4.22 offer: border and title bar colours (client.*) are global, and marks do
 * not change them; the span colours the label's text run, not the whole bar. Both WMs render
 * it as Pango markup only when the config's font is a pango: font (clan-desktop's config snippet sets one); both
 * escape the window's own title when they put it into %title, so a guest cannot forge markup or the prefix's colour.
 */
export function titleFormatWithPrefix(prefix: TitlePrefix): string {
  const background = assertColour(prefix.background);
  const foreground = assertColour(prefix.foreground);
  return `<span background='${background}' foreground='${foreground}'> [${escapeMarkupText(prefix.label)}] </span> %title`;
}

/** Sets the title format of the matching windows (per window: the only per-window colour either WM offers). */
export function setTitleFormat(selector: Criteria, prefix: TitlePrefix, dialect: WmDialect): string {
  return `${criteria(selector, dialect)} title_format ${quoteArgument(titleFormatWithPrefix(prefix), dialect)}`;
}

function assertColour(colour: string): string {
  if (!/^#[0-9a-fA-F]{6}$/.test(colour)) throw new UnsafeCommandArgumentError("not-a-colour", colour, "a colour is #rrggbb");
  return colour.toLowerCase();
}

function assertId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new UnsafeCommandArgumentError("not-an-id", String(id), "an id is a non-negative integer");
  return id;
}
