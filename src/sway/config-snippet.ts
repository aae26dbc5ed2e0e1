import { UnsafeCommandArgumentError, type WmDialect } from "./command-syntax.js";
import { focusWorkspace } from "./commands.js";
import { bindingCommand, commentText, configArgument, execCommand, statusCommand } from "./config-file-syntax.js";

// The snippet `clanctl sway-config` / `clanctl i3-config` prints for the user to `include` in their window
// manager's config (docs/bar.md): a binding mode with the network actions and a key per network, the bar's
// status_command, and the Pango font that clan-sessiond's trusted title prefix needs. Every name from
// config.json goes through command-syntax.ts; a name that cannot be written safely leaves out its line and
// says why in a comment.
//
// No per-network assign or for_window rules: clan-sessiond places and decorates a network's windows by the
// process that owns them, which criteria cannot express (app_id, class and title are the guest's to choose),
// and it marks them `clan:<network>` only after they appear, when for_window rules have already run.

export interface SnippetNetwork {
  name: string;
  label: string;
  workspaces: readonly string[];
}

export interface SnippetOptions {
  dialect: WmDialect;
  /** In the order of config.json: the first gets key 1. */
  networks: readonly SnippetNetwork[];
  /** How the window manager runs clanctl, as words: ["clanctl"] or [node, "/…/bin/clanctl.js"]. */
  clanctl: readonly string[];
  /** How the bar runs bin/clan-bar-relay, as words: ["clan-bar-relay"] or ["/…/bin/clan-bar-relay"]. */
  barRelay: readonly string[];
  /** Emit a whole `bar { … }` block, rather than a commented example. */
  withBar: boolean;
  /** Where the networks came from, for the header. */
  configFile: string;
  /** Why config.json could not be read, if it could not: the snippet then has no network keys. */
  configProblem?: string;
}

/** The actions of the mode: key, clanctl subcommand, what the key is called in the mode's name. */
const ACTIONS = [
  { key: "r", subcommand: "rebuild", hint: "r rebuild" },
  { key: "p", subcommand: "rollback", hint: "p previous generation" },
  { key: "b", subcommand: "backup", hint: "b back up" },
  { key: "s", subcommand: "stop", hint: "s stop" },
] as const;

const NETWORK_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];
const MODE_KEY = "$mod+n";

export function modeName(networkCount: number): string {
  const switchHint = networkCount === 0 ? "" : `, ${networkCount === 1 ? "1" : `1-${NETWORK_KEYS[Math.min(networkCount, NETWORK_KEYS.length) - 1]}`} network`;
  return `clan: ${ACTIONS.map((action) => action.hint).join(", ")}${switchHint}, Esc leave`;
}

export function configSnippet(options: SnippetOptions): string {
  const { dialect } = options;
  const wm = dialect === "sway" ? "sway" : "i3";
  const lines = [
    `# clan-desktop for ${wm}, written by \`clanctl ${wm}-config\` from ${commentText(options.configFile)}.`,
    `# Include it after \`set $mod …\` (it uses $mod), e.g.  include ~/.config/${wm}/clan-desktop.conf`,
    "# Run the command again after adding or removing networks. See docs/bar.md.",
    ...(options.configProblem ? ["#", `# config.json could not be read, so no network has a key here: ${commentText(options.configProblem)}`] : []),
    "",
    ...fontLines(dialect),
    ...modeLines(options),
    "",
    ...barLines(options),
  ];
  return `${lines.join("\n")}\n`;
}

// Both sway 1.7 and i3 4.22 render title markup only when the font is a pango: font, and neither config sets one
// by default (Debian's /etc/sway/config has no font line): without it the prefix shows as raw `<span …>` text.
function fontLines(dialect: WmDialect): string[] {
  return [
    `# clan-sessiond draws each network window's [label] prefix with Pango markup, which ${dialect} renders only with`,
    "# a pango: font. Change the family and size to taste; keep \"pango:\", also in any later font line.",
    dialect === "sway" ? "font pango:monospace 10" : "font pango:monospace 8",
    "",
  ];
}

function modeLines(options: SnippetOptions): string[] {
  const { dialect, clanctl, networks } = options;
  const mode = configArgument(modeName(networks.length), dialect);
  const bindsym = bindsymFor(dialect);
  const body: string[] = [];
  for (const action of ACTIONS) {
    body.push(`    ${bindsym} ${action.key} ${bindingCommand(`${execCommand([...clanctl, action.subcommand], dialect)}; mode default`, dialect)}`);
  }
  networks.forEach((network, index) => {
    const key = NETWORK_KEYS[index];
    const about = `${network.name} (${commentText(network.label)})`;
    if (key === undefined) {
      body.push(`    # ${about}: no key left; use its workspace ${commentText(network.workspaces[0] ?? "")}`);
      return;
    }
    const workspace = network.workspaces[0] ?? "";
    try {
      body.push(`    # ${about}`, `    ${bindsym} ${key} ${bindingCommand(`${focusWorkspaceInConfig(workspace, dialect)}; mode default`, dialect)}`);
    } catch (error) {
      if (!(error instanceof UnsafeCommandArgumentError)) throw error;
      body.push(`    # ${about}: no key, its workspace cannot be written into a config file: ${commentText(error.message)}`);
    }
  });
  return [
    `# ${MODE_KEY} enters a mode that acts on the focused workspace's network (its name, shown in the bar, lists the keys);`,
    "# a digit switches to a network's first workspace. Every key leaves the mode again.",
    `mode ${mode} {`,
    ...body,
    `    ${bindsym} Escape mode default`,
    `    ${bindsym} Return mode default`,
    "}",
    `${bindsym} ${MODE_KEY} mode ${mode}`,
  ];
}

/**
 * sway lets a focused client inhibit the compositor's shortcuts (zwp_keyboard_shortcuts_inhibit_v1, which a
 * guest's app forwarded by waypipe may ask for, and which spice-gtk uses for its keyboard grab): --inhibited keeps
 * the snippet's keys working then, so the user can always leave a network with the keyboard. i3 has no such flag.
 */
function bindsymFor(dialect: WmDialect): string {
  return dialect === "sway" ? "bindsym --inhibited" : "bindsym";
}

/** focusWorkspace, also refusing '$', which a config file would expand. */
function focusWorkspaceInConfig(workspace: string, dialect: WmDialect): string {
  configArgument(workspace, dialect);
  return focusWorkspace(workspace, dialect);
}

function barLines(options: SnippetOptions): string[] {
  const { dialect, barRelay, withBar } = options;
  const block = [
    "bar {",
    "    position top",
    `    status_command ${statusCommand([...barRelay, "i3bar"], dialect)}`,
    // i3bar renders the blocks' Pango markup only with a pango: font; swaybar always uses Pango.
    ...(dialect === "i3" ? ["    font pango:monospace 8"] : []),
    "}",
  ];
  if (withBar) return ["# A bar with the networks' status (left click: switch, middle: rebuild, right: roll back).", ...block];
  return [
    "# The networks' status in your bar: use this status_command in your own bar { } block, or run",
    `# \`clanctl ${dialect === "sway" ? "sway" : "i3"}-config --with-bar\` to get a whole bar. For waybar and i3blocks see docs/bar.md.`,
    ...block.map((line) => `# ${line}`),
  ];
}
