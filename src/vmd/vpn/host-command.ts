import { execa } from "execa";
import { ClanError } from "../../shared/errors.js";

// Runs one of the host's network tools (ip, wg, nft, yggdrasil) with an argument array — never through a shell —
// and turns a failure into an error that names the command and the tool's own words.

const COMMAND_TIMEOUT_MS = 15_000;

export async function hostCommand(binary: string, args: string[], input?: string): Promise<string> {
  const result = await execa(binary, args, { reject: false, timeout: COMMAND_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
  if (result.failed) {
    const words = String(result.stderr || result.stdout || result.shortMessage).trim().split("\n").slice(-3).join(" ");
    throw new ClanError("NetworkFailed", `${binary} ${args.join(" ")}: ${words}`);
  }
  return result.stdout;
}
