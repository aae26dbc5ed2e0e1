import { constants } from "node:fs";
import { open, readlink } from "node:fs/promises";
import { CONFIGS_MAX_CHARS } from "../../shared/applications-api.js";
import { ClanError, errorMessage } from "../../shared/errors.js";
import { checkNetworkConfigs, describeNetworkSpecProblem } from "../../shared/network-spec.js";
import { shownText } from "../../shared/shown-text.js";

// Reading a configs.json that someone else may have written, and checking it with the schema nix/lib validates
// with: the user's own flake (network-configs-file.ts) and the source a joined network was built from
// (built-configs.ts) both go through here, so both refuse a symlink, a non-file and an oversized file alike.

/** A bigger file is refused before it is parsed. */
export const CONFIGS_MAX_BYTES = CONFIGS_MAX_CHARS;
const MAX_PROBLEMS_SHOWN = 5;

/**
 * The file's text; undefined when it does not exist. Refuses a symlink, a non-file and an oversized file. With
 * `mustOpen`, the file opened must be exactly that path (as the kernel names the open file): nothing on the way
 * may have led elsewhere.
 */
export async function readBounded(path: string, mustOpen?: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new ClanError("InvalidState", `${path} is a symlink; clan-sessiond reads and writes only a regular configs.json`);
    throw new ClanError("InvalidState", `cannot read ${path}: ${errorMessage(error)}`);
  }
  try {
    if (mustOpen !== undefined) {
      const opened = await readlink(`/proc/self/fd/${handle.fd}`);
      if (opened !== mustOpen) throw new ClanError("InvalidState", `${path} leads to ${shownText(opened)}, outside ${mustOpen}`);
    }
    const info = await handle.stat();
    if (!info.isFile()) throw new ClanError("InvalidState", `${path} is not a regular file`);
    if (info.size > CONFIGS_MAX_BYTES) throw new ClanError("InvalidState", `${path} is ${info.size} bytes, more than the ${CONFIGS_MAX_BYTES} a configs.json may have`);
    const buffer = Buffer.alloc(CONFIGS_MAX_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > CONFIGS_MAX_BYTES) throw new ClanError("InvalidState", `${path} grew past ${CONFIGS_MAX_BYTES} bytes while it was read`);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** The text as configs, or what is wrong with it: not JSON, or each problem naming its entry and field (as Nix would). */
export function checkConfigsText(text: string): { ok: true; configs: unknown } | { ok: false; problem: string } {
  if (text.length > CONFIGS_MAX_BYTES) return { ok: false, problem: `${text.length} characters, more than ${CONFIGS_MAX_BYTES}` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${shownText(errorMessage(error), 200)}` };
  }
  const checked = checkNetworkConfigs(raw);
  if (!checked.ok) {
    const shown = checked.problems.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => shownText(describeNetworkSpecProblem(problem), 300));
    const more = checked.problems.length > MAX_PROBLEMS_SHOWN ? `; and ${checked.problems.length - MAX_PROBLEMS_SHOWN} more` : "";
    return { ok: false, problem: `${shown.join("; ")}${more}` };
  }
  return { ok: true, configs: raw };
}
