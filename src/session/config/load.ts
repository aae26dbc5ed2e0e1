import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { parseTree, stripComments, type ParseError } from "jsonc-parser";
import { errorMessage } from "../../shared/errors.js";
import {
  type ConfigError,
  invalidConfigError,
  jsonSyntaxError,
  missingFileError,
  unlocatedSyntaxError,
  unreadableFileError,
} from "./errors.js";
import { type Config, ConfigSchema } from "./schema.js";

// Finding and reading config.json. Every way the file can be wrong is a ConfigError value, never an exception,
// because the caller (the watcher, `clanctl config check`) has to go on with the last good config either way.

export type ConfigLoadResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly error: ConfigError };

export interface ConfigPathSources {
  /** The value of `--config`, if given. */
  readonly cliPath?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** `--config` beats `$CLAN_DESKTOP_CONFIG` beats `$XDG_CONFIG_HOME/clan-desktop/config.json` beats
 *  `~/.config/clan-desktop/config.json`. Empty values count as unset; relative paths are taken from the current
 *  directory, except a relative XDG_CONFIG_HOME, which the XDG spec says to ignore. Returns an absolute path. */
export function resolveConfigPath({ cliPath, env }: ConfigPathSources): string {
  if (cliPath) return resolve(cliPath);
  if (env.CLAN_DESKTOP_CONFIG) return resolve(env.CLAN_DESKTOP_CONFIG);
  const xdgConfigHome = env.XDG_CONFIG_HOME;
  const configHome = xdgConfigHome && isAbsolute(xdgConfigHome) ? xdgConfigHome : join(env.HOME || homedir(), ".config");
  return join(configHome, "clan-desktop", "config.json");
}

export async function loadConfigFile(file: string): Promise<ConfigLoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a path component is a file; for the user that is the same as "not there".
    if (code === "ENOENT" || code === "ENOTDIR") return { ok: false, error: missingFileError(file) };
    return { ok: false, error: unreadableFileError(file, errorMessage(error)) };
  }
  return parseConfigText(text, file);
}

/** Validates the text of a config file; `file` only names it in errors. */
export function parseConfigText(text: string, file: string): ConfigLoadResult {
  // Some editors write a byte-order mark, which JSON.parse rejects.
  const json = text.startsWith("\uFEFF") ? text.slice(1) : text;
  // jsonc-parser finds where the text goes wrong (line and column) and allows // and /* */ comments. The value
  // itself comes from JSON.parse, which keeps a key named "__proto__" as a key (jsonc-parser's own value builder
  // would assign it, replacing the object's prototype).
  const errors: ParseError[] = [];
  parseTree(json, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors[0]) return { ok: false, error: jsonSyntaxError(file, json, errors[0]) };
  let data: unknown;
  try {
    data = JSON.parse(stripComments(json));
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, error: unlocatedSyntaxError(file, error) };
    throw error;
  }
  if (hasNetworkNamedProto(data)) {
    const issue = { code: "custom" as const, path: ["networks", "__proto__"], message: 'invalid network name "__proto__"' };
    return { ok: false, error: invalidConfigError(file, [issue]) };
  }
  const parsed = ConfigSchema.safeParse(data, {
    error: (issue) => (issue.code === "invalid_type" && issue.input === undefined ? "required field is missing" : undefined),
  });
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, error: invalidConfigError(file, parsed.error.issues) };
}

// zod drops a "__proto__" key from a record without a word (assigning it would replace the prototype), so a network
// of that name would silently vanish. (In the strict objects everywhere else, zod reports it as an unknown field.)
function hasNetworkNamedProto(data: unknown): boolean {
  const networks = typeof data === "object" && data !== null && "networks" in data ? data.networks : undefined;
  return typeof networks === "object" && networks !== null && Object.hasOwn(networks, "__proto__");
}
