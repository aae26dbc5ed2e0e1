import { SESSION_BUS_NAME, VMD_BUS_NAME } from "../shared/dbus-names.js";

// The files that start clan-vmd and clan-sessiond with a user's session on a distribution without the NixOS
// module: systemd user units, and D-Bus activation files so that the first call to either name starts it. One
// generator serves both what share/ ships (for packages installing to /usr) and what `clanctl session-files`
// writes for this installation's own paths, so the two cannot drift apart.

export interface SessionFile {
  /** Relative to a data directory such as /usr/share or ~/.local/share. */
  path: string;
  text: string;
}

/** How each daemon is run: an argv whose elements are absolute paths or plain words. */
export interface DaemonCommands {
  vmd: string[];
  sessiond: string[];
}

export const PACKAGED_COMMANDS: DaemonCommands = { vmd: ["/usr/bin/clan-vmd"], sessiond: ["/usr/bin/clan-sessiond"] };

const VMD_UNIT = "clan-vmd.service";
const SESSIOND_UNIT = "clan-sessiond.service";

export function sessionFiles(commands: DaemonCommands): SessionFile[] {
  return [
    {
      path: `systemd/user/${VMD_UNIT}`,
      text: unit({
        description: "clan-desktop: the VMs of your networks (clan-vmd)",
        busName: VMD_BUS_NAME,
        command: commands.vmd,
        // VMs outlive a restart of clan-vmd and are re-adopted; stopping the unit must not kill them with it.
        extraService: ["KillMode=process"],
        install: [],
      }),
    },
    {
      path: `systemd/user/${SESSIOND_UNIT}`,
      text: unit({
        description: "clan-desktop: workspaces that belong to networks (clan-sessiond)",
        busName: SESSION_BUS_NAME,
        command: commands.sessiond,
        extraUnit: ["PartOf=graphical-session.target", "After=graphical-session.target"],
        extraService: [],
        install: ["[Install]", "WantedBy=graphical-session.target"],
      }),
    },
    { path: `dbus-1/services/${VMD_BUS_NAME}.service`, text: activation(VMD_BUS_NAME, commands.vmd, VMD_UNIT) },
    { path: `dbus-1/services/${SESSION_BUS_NAME}.service`, text: activation(SESSION_BUS_NAME, commands.sessiond, SESSIOND_UNIT) },
  ];
}

interface UnitInput {
  description: string;
  busName: string;
  command: string[];
  extraUnit?: string[];
  extraService: string[];
  install: string[];
}

function unit({ description, busName, command, extraUnit = [], extraService, install }: UnitInput): string {
  const lines = [
    "[Unit]",
    `Description=${description}`,
    ...extraUnit,
    "",
    "[Service]",
    "Type=dbus",
    `BusName=${busName}`,
    `ExecStart=${execLine(command)}`,
    "Restart=on-failure",
    ...extraService,
    ...(install.length > 0 ? ["", ...install] : []),
  ];
  return `${lines.join("\n")}\n`;
}

// Without systemd, dbus-daemon runs Exec= itself; with it, SystemdService= hands the start to the user unit.
function activation(busName: string, command: string[], systemdUnit: string): string {
  return `[D-BUS Service]\nName=${busName}\nExec=${execLine(command)}\nSystemdService=${systemdUnit}\n`;
}

/** Both file formats split Exec lines on spaces and read quotes and backslashes: only plain paths are written. */
function execLine(command: string[]): string {
  for (const word of command) {
    if (!/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) {
      throw new Error(`cannot write ${JSON.stringify(word)} into an Exec line: use a path of letters, digits and ._-/+@=:,`);
    }
  }
  return command.join(" ");
}
