import { randomBytes } from "node:crypto";
import { mkdir, readFile, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { applyEdits, modify, type JSONPath } from "jsonc-parser";
import { ClanError } from "../../shared/errors.js";
import { parseConfigText } from "./load.js";
import type { Config } from "./schema.js";

// Changes that clan-sessiond itself makes to the user's config.json for its D-Bus clients (the manager's Settings
// page, "New network"): one value set at a path, the rest of the text — comments, order, indentation — left as the
// user wrote it (jsonc-parser edits the text where the value is). The result is validated as a whole before it
// is written and replaces the file in one rename, so the hot reload never sees half a file. A config that is
// already invalid is not touched: the user's own problem must not be buried under an edit they did not write.

const NEW_FILE = '{\n  "networks": {}\n}\n';

export interface ConfigValueChange {
  path: JSONPath;
  /** undefined removes the field. */
  value: unknown;
}

/** Applies `changes` to config.json in one write; returns the config the file now holds. */
export async function editConfigFile(file: string, changes: readonly ConfigValueChange[]): Promise<Config> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return NEW_FILE;
    throw error;
  });
  const current = parseConfigText(text, file);
  if (!current.ok) throw new ClanError("InvalidState", `fix ${file} first; it has problems:\n${current.error.message}`);
  const bom = text.startsWith("\uFEFF") ? "\uFEFF" : "";
  let json = text.slice(bom.length);
  const eol = json.includes("\r\n") ? "\r\n" : "\n";
  const indent = /\n([ \t]+)\S/.exec(json)?.[1] ?? "  ";
  for (const { path, value } of changes) {
    const formattingOptions = { insertSpaces: !indent.includes("\t"), tabSize: indent.includes("\t") ? 1 : indent.length, eol };
    json = applyEdits(json, modify(json, path, value, { formattingOptions }));
  }
  const next = parseConfigText(bom + json, file);
  if (!next.ok) throw new ClanError("InvalidArgument", `not saved: the change would make ${file} invalid:\n${next.error.message}`);
  await replaceFile(file, bom + json);
  return next.config;
}

/** Writes next to the real file (a symlink stays a symlink) and renames over it. */
export async function replaceFile(file: string, text: string): Promise<void> {
  const target = await realpath(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return file;
    throw error;
  });
  await mkdir(dirname(target), { recursive: true });
  const mode = (await stat(target).catch(() => undefined))?.mode ?? 0o644;
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, text, { mode: mode & 0o777, flag: "wx" });
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS" || code === "EACCES") {
      throw new ClanError("InvalidState", `cannot write ${target} (${code}): is it managed elsewhere, e.g. by home-manager? Change it there`, { cause: error });
    }
    throw error;
  }
}
