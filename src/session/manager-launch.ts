import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ClanError } from "../shared/errors.js";

// The bar's "☰ Manager" block: clan-sessiond runs clan-manager in its own session environment (the display the
// bar is on). clan-manager is one application per session, so a second click brings the open window forward. It
// runs detached from clan-sessiond, which neither waits for it nor ends it; it says itself what went wrong (on
// its stderr, which goes where clan-sessiond's goes).

const MANAGER_COMMAND: readonly string[] = process.env.CLAN_MANAGER
  ? [process.env.CLAN_MANAGER]
  : [process.execPath, fileURLToPath(new URL("../../bin/clan-manager.js", import.meta.url))];

/** Starts the manager; resolves once it started, rejects with why it could not. */
export function launchManager(command: readonly string[] = MANAGER_COMMAND): Promise<void> {
  const [program, ...args] = command;
  if (!program) return Promise.reject(new ClanError("InvalidArgument", "no manager command"));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { detached: true, stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", (error) => reject(new ClanError("NotFound", `cannot run ${program}: ${error.message}`, { cause: error })));
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}
