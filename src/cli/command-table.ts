import { BAR_FORMAT_NAMES } from "../bar/bar-format.js";
import { command, type Command, type CommandGroup, type Section } from "./command-spec.js";

// Every clanctl command, declared once: help, parsing, dispatch and shell completions all come from here. A
// command's module is imported only when that command runs (bin/clanctl.js stays fast for --help and friends).

const NET = { name: "NET", required: false } as const;
const NEEDED_NET = { name: "NET", required: true } as const;
const JSON_OPTION = { json: { type: "boolean", help: "print JSON" } } as const;
const CONFIG_OPTION = { config: { type: "string", value: "FILE", help: "the config.json to use (default: the one clan-sessiond reads)" } } as const;

const session = () => import("./session-commands.js");
const generations = () => import("./generation-commands.js");
const backups = () => import("./backup-commands.js");
const vpn = () => import("./vpn-commands.js");
const vm = () => import("./vm-commands.js");
const wmConfig = () => import("./wm-config-command.js");

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

const sessionCommands: Command[] = [
  command({
    path: ["status"],
    summary: "every network: workspaces, VM state, generation, and its shares, port forwards and network mode",
    options: JSON_OPTION,
    bus: "own",
    run: async (parsed) => (await session()).runSessionCommand("status", parsed),
  }),
  ...(["start", "stop", "pause"] as const).map((name) =>
    command({
      path: [name],
      summary: `${name} a network's VM (without NET: the focused workspace's network)`,
      positionals: [NET],
      bus: "own",
      run: async (parsed) => (await session()).runSessionCommand(name, parsed),
    }),
  ),
  command({
    path: ["switch"],
    summary: "focus the network's workspace",
    positionals: [NEEDED_NET],
    bus: "own",
    run: async (parsed) => (await session()).runSessionCommand("switch", parsed),
  }),
];

/** Long actions are jobs (docs/dbus.md, "Jobs"): followed with a progress display unless this is given. */
const NO_WAIT_OPTION = { "no-wait": { type: "boolean", help: "print the job's id at once instead of following its progress" } } as const;

const generationCommands: Command[] = [
  command({
    path: ["rebuild"],
    summary: "build NET's flake, boot it, roll back if it does not come up",
    options: NO_WAIT_OPTION,
    positionals: [NET],
    run: async (parsed, connect) => (await generations()).runGenerationCommand("rebuild", parsed, connect),
  }),
  command({
    path: ["rollback"],
    summary: "switch to the previous (or Nth) generation and boot it",
    options: { to: { type: "string", value: "N", help: "the generation number to switch to" }, ...NO_WAIT_OPTION },
    positionals: [NET],
    run: async (parsed, connect) => (await generations()).runGenerationCommand("rollback", parsed, connect),
  }),
  command({
    path: ["generations"],
    summary: "every generation, its date and source revision",
    options: JSON_OPTION,
    positionals: [NET],
    run: async (parsed, connect) => (await generations()).runGenerationCommand("generations", parsed, connect),
  }),
  ...(
    [
      ["build-log", "the log of the last build"],
      ["check-update", "whether NET's source has a newer revision"],
    ] as const
  ).map(([name, summary]) =>
    command({
      path: [name],
      summary,
      positionals: [NET],
      run: async (parsed, connect) => (await generations()).runGenerationCommand(name, parsed, connect),
    }),
  ),
];

const backupCommands: Command[] = [
  command({
    path: ["backup"],
    summary: "back NET's state disk up now, showing progress until it is stored",
    options: NO_WAIT_OPTION,
    positionals: [NET],
    run: async (parsed, connect) => (await backups()).runBackupCommand("backup", parsed, connect),
  }),
  command({
    path: ["backups"],
    summary: "NET's backup status and every snapshot: id, date, size",
    options: JSON_OPTION,
    positionals: [NEEDED_NET],
    run: async (parsed, connect) => (await backups()).runBackupCommand("backups", parsed, connect),
  }),
  command({
    path: ["restore"],
    summary: "restore a snapshot (the latest by default) with the VM stopped",
    options: NO_WAIT_OPTION,
    positionals: [NEEDED_NET, { name: "SNAPSHOT", required: false }],
    run: async (parsed, connect) => (await backups()).runBackupCommand("restore", parsed, connect),
  }),
];

const joinCommand = command({
  path: ["join"],
  summary: "join a network from its clan:// or nix:// link (docs/links.md)",
  options: {
    yes: { type: "boolean", help: "answer both questions yes (for scripts)" },
    "from-desktop": { type: "boolean", help: "ask on the desktop, as the link handler does when a link is clicked" },
    name: { type: "string", value: "NET", help: "the network's name (default: from the link)" },
    workspace: { type: "string", value: "W", help: "its workspace (default: a free one)" },
    colour: { type: "string", value: "#rrggbb", help: "its colour (default: a free one)" },
    ...CONFIG_OPTION,
    "fetch-only": { type: "boolean", help: "step one: fetch the source only and print what the network asks for as JSON" },
    "build-fetched": { type: "string", value: "FILE", help: "step two: register and build exactly what --fetch-only printed into FILE (--build-fetched=- for stdin); no LINK" },
  },
  positionals: [{ name: "LINK", required: false }],
  run: async (parsed, connect) => (await import("./join-command.js")).runJoinCommand(parsed, connect),
});

const vpnCommands: Command[] = [
  command({
    path: ["peers"],
    summary: "the VPN's peers: connected or not, last handshake, traffic",
    options: JSON_OPTION,
    positionals: [NEEDED_NET],
    run: async (parsed, connect) => (await vpn()).runVpnCommand("peers", parsed, connect),
  }),
  ...(
    [
      ["block", "revoke a peer (name or public key) at once; it stays blocked"],
      ["unblock", "let a blocked peer back"],
    ] as const
  ).map(([name, summary]) =>
    command({
      path: [name],
      summary,
      positionals: [NEEDED_NET, { name: "PEER", required: true }],
      run: async (parsed, connect) => (await vpn()).runVpnCommand(name, parsed, connect),
    }),
  ),
];

const desktopCommands: Command[] = [
  command({
    path: ["manager"],
    summary: "open the manager window: every network, its VM, generations and backups (docs/manager.md)",
    bus: "none",
    run: async () => (await import("./manager-command.js")).runManagerCommand(),
  }),
  command({
    path: ["bar"],
    summary: "status bar module: runs clan-bar-relay, which clan-sessiond feeds (docs/bar.md)",
    options: {
      format: { type: "string", value: "FORMAT", choices: BAR_FORMAT_NAMES, help: "the bar's protocol (default: i3bar)" },
      network: { type: "string", value: "NET", help: "show only this network" },
    },
    bus: "none",
    run: async (parsed) => (await import("./bar-command.js")).runBarCommand(parsed),
  }),
  ...(["sway-config", "i3-config"] as const).map((name) =>
    command({
      path: [name],
      summary: `keys and bar for your ${name === "sway-config" ? "sway" : "i3"} config, to include (docs/bar.md)`,
      options: { "with-bar": { type: "boolean", help: "add a bar running clan-bar-relay" }, ...CONFIG_OPTION },
      bus: "none",
      run: async (parsed) => (await wmConfig()).runWmConfigCommand(name, parsed),
    }),
  ),
  command({
    path: ["session-files"],
    summary: "write systemd user units and D-Bus activation files for the daemons",
    options: {
      "data-dir": { type: "string", value: "DIR", help: "where to write them (default: $XDG_DATA_HOME or ~/.local/share)" },
      print: { type: "boolean", help: "print them instead of writing them" },
    },
    bus: "none",
    run: async (parsed) => (await import("./session-files-command.js")).runSessionFilesCommand(parsed),
  }),
  command({
    path: ["completions"],
    summary: "print the completion script for bash, zsh or fish",
    positionals: [{ name: "SHELL", required: true, choices: SHELLS }],
    bus: "none",
    run: async (parsed) => {
      const { completionScript } = await import("./completions.js");
      process.stdout.write(completionScript(parsed.positionals[0] as Shell));
    },
  }),
];

const vmNetworkCommands = (["stop", "pause", "resume"] as const).map((name) =>
  command({
    path: ["vm", name],
    summary: `${name} NET's VM`,
    positionals: [NEEDED_NET],
    run: async (parsed, connect) => (await vm()).runVmCommand(name, parsed, connect),
  }),
);

const vmGroup: CommandGroup = {
  path: ["vm"],
  summary: "low level, straight to clan-vmd",
  subcommands: [
    command({
      path: ["vm", "start"],
      summary: "boot NET's generation (a profile link or a generation directory)",
      options: {
        profile: { type: "string", value: "DIR", required: true, help: "the profile link or generation directory to boot" },
        share: { type: "string", value: "DIR", multiple: true, help: "grant the shares under DIR (read-only unless DIR:rw); repeatable" },
      },
      positionals: [NEEDED_NET],
      run: async (parsed, connect) => (await vm()).runVmCommand("start", parsed, connect),
    }),
    ...vmNetworkCommands,
    command({
      path: ["vm", "list"],
      summary: "every VM clan-vmd knows",
      options: JSON_OPTION,
      run: async (parsed, connect) => (await vm()).runVmCommand("list", parsed, connect),
    }),
    command({
      path: ["vm", "log"],
      summary: "the end of NET's serial console",
      options: { bytes: { type: "string", value: "N", help: "how many bytes (default: 16384)" } },
      positionals: [NEEDED_NET],
      run: async (parsed, connect) => (await vm()).runVmCommand("log", parsed, connect),
    }),
  ],
};

export const SECTIONS: readonly Section[] = [
  { title: "Networks", entries: [...sessionCommands, ...generationCommands, ...backupCommands, joinCommand, ...vpnCommands] },
  { title: "Status bar, window manager and session", entries: desktopCommands },
  { title: "Low level, straight to clan-vmd", entries: [vmGroup] },
];

export const ENTRIES = SECTIONS.flatMap((section) => section.entries);
