import { chmodSync, lstatSync, mkdirSync } from "node:fs";

/** Creates `dir` for this user only, or refuses one that another user owns or that is not a directory. */
export function ensurePrivateDirectory(dir: string): void {
  const stats = privateDirectoryStats(dir);
  if ((stats.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/**
 * Like ensurePrivateDirectory, but an existing directory that others may enter is refused rather than closed:
 * for a path that a variable names, which may be a shared directory that is not ours to change.
 */
export function requirePrivateDirectory(dir: string): void {
  const stats = privateDirectoryStats(dir);
  if ((stats.mode & 0o077) !== 0) throw new Error(`${dir} is open to other users (mode ${(stats.mode & 0o777).toString(8)}); it must be 0700`);
}

function privateDirectoryStats(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = lstatSync(dir);
  if (!stats.isDirectory() || stats.uid !== process.getuid?.()) throw new Error(`${dir} is not a directory of this user`);
  return stats;
}
