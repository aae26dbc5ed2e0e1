import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../shared/errors.js";
import { type DaemonCommands, sessionFiles } from "./session-files.js";

// `clanctl session-files`: writes systemd user units and D-Bus activation files that start this installation's
// daemons, for a desktop without the NixOS module (docs/session.md, "Starting with your session").

export async function runSessionFilesCommand({
  values,
  positionals,
}: {
  values: { "data-dir"?: string | undefined; print?: boolean };
  positionals: string[];
}): Promise<void> {
  if (positionals.length > 0) throw new UsageError("session-files takes no arguments\nTry 'clanctl session-files --help'.");
  const files = sessionFiles(installedCommands());
  if (values.print) {
    for (const file of files) process.stdout.write(`# ${file.path}\n${file.text}\n`);
    return;
  }
  const dataDir = values["data-dir"] ?? process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share");
  for (const file of files) {
    const target = join(dataDir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.text);
    console.log(`wrote ${target}`);
  }
  console.log("Then: systemctl --user daemon-reload && systemctl --user enable clan-sessiond.service (or let D-Bus start them).");
}

/** This node and this package's bin scripts, by absolute path: a session's PATH may have neither. */
function installedCommands(): DaemonCommands {
  const binDir = fileURLToPath(new URL("../../bin/", import.meta.url));
  return {
    vmd: [process.execPath, join(binDir, "clan-vmd.js")],
    sessiond: [process.execPath, join(binDir, "clan-sessiond.js")],
  };
}
