import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../errors.js";

// Files of a fetched flake source, read as data. The source is the network's: a file may be a symlink pointing
// out of it, or huge, so only regular files up to a limit are read.

/** The file's text, or undefined when the source has no such file. */
export async function readSourceFile(sourcePath: string, name: string, limit: number): Promise<string | undefined> {
  const file = join(sourcePath, name);
  const info = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info === undefined) return undefined;
  if (!info.isFile()) throw new ClanError("InvalidArgument", `the flake's ${name} is not a regular file`);
  if (info.size > limit) throw new ClanError("InvalidArgument", `the flake's ${name} is ${info.size} bytes; at most ${limit} are read`);
  return readFile(file, "utf8");
}
