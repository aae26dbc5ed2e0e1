import { connectSessionBus } from "../shared/bus.js";
import { ClanError } from "../shared/errors.js";
import { BACKUP_USAGE, runBackupCommand } from "./backup-commands.js";
import { BAR_USAGE, runBarCommand } from "./bar-command.js";
import { GENERATION_USAGE, runGenerationCommand } from "./generation-commands.js";
import { JOIN_USAGE, runJoinCommand } from "./join-command.js";
import { runSessionCommand, SESSION_USAGE } from "./session-commands.js";
import { runSessionFilesCommand, SESSION_FILES_USAGE } from "./session-files-command.js";
import { runVmCommand, VM_USAGE } from "./vm-commands.js";
import { runVpnCommand, VPN_USAGE } from "./vpn-commands.js";
import { runWmConfigCommand, WM_CONFIG_USAGE } from "./wm-config-command.js";

const USAGE = `usage: clanctl COMMAND …

${SESSION_USAGE}
${GENERATION_USAGE}
${BACKUP_USAGE}
${JOIN_USAGE}
${VPN_USAGE}

Status bar and window manager:
${BAR_USAGE}
${WM_CONFIG_USAGE}
${SESSION_FILES_USAGE}

Low level, straight to clan-vmd:
${VM_USAGE}`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let bus: ReturnType<typeof connectSessionBus> | undefined;
  const connect = () => (bus ??= connectSessionBus());
  try {
    switch (command) {
      case "vm":
        await runVmCommand(rest, connect);
        return;
      case "status":
      case "start":
      case "stop":
      case "pause":
      case "switch":
        await runSessionCommand(command, rest, connect);
        return;
      case "rebuild":
      case "rollback":
      case "generations":
      case "build-log":
      case "check-update":
        await runGenerationCommand(command, rest, connect);
        return;
      case "peers":
      case "block":
      case "unblock":
        await runVpnCommand(command, rest, connect);
        return;
      case "backup":
      case "backups":
      case "restore":
        await runBackupCommand(command, rest, connect);
        return;
      case "join":
        await runJoinCommand(rest, connect);
        return;
      case "bar":
        await runBarCommand(rest, connect);
        return;
      case "sway-config":
      case "i3-config":
        await runWmConfigCommand(command, rest);
        return;
      case "session-files":
        await runSessionFilesCommand(rest);
        return;
      case undefined:
      case "help":
      case "--help":
        console.log(USAGE);
        return;
      default:
        throw new ClanError("InvalidArgument", `unknown command ${JSON.stringify(command)}\n${USAGE}`);
    }
  } finally {
    bus?.disconnect();
  }
}
