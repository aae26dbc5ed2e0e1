import { lstat, mkdir, readlink } from "node:fs/promises";
import { ClanError } from "../shared/errors.js";

// clan-vmd's runtime directory holds the sockets that control every VM (QMP, guest agent, display). Without
// XDG_RUNTIME_DIR it falls back to a directory in the shared temporary directory, where any user may have
// created that name first — as a directory they own and can enter, or as a symbolic link to one — and would then
// reach or replace those sockets. So the fallback is created private by clan-vmd, and one that already exists
// is used only when it is a real directory of this user that nobody else may enter.

export async function claimPrivateDirectory(path: string): Promise<void> {
  const uid = process.getuid?.();
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new ClanError("InvalidState", `cannot create the runtime directory ${path}: ${(error as Error).message}`);
    }
  }
  const info = await lstat(path);
  const remedy = `remove it, or set XDG_RUNTIME_DIR (or --runtime-dir) to a private directory`;
  if (info.isSymbolicLink()) {
    const target = await readlink(path).catch(() => "?");
    throw new ClanError("InvalidState", `refusing the runtime directory ${path}: it is a symbolic link (to ${target}), which another user may have planted; ${remedy}`);
  }
  if (!info.isDirectory()) throw new ClanError("InvalidState", `refusing the runtime directory ${path}: it is not a directory; ${remedy}`);
  if (uid !== undefined && info.uid !== uid) {
    throw new ClanError("InvalidState", `refusing the runtime directory ${path}: it belongs to uid ${info.uid}, not to you (uid ${uid}), so its owner could reach the VMs' sockets; ${remedy}`);
  }
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new ClanError("InvalidState", `refusing the runtime directory ${path}: other users may enter it (mode ${mode}); ${remedy}, or chmod 700 it`);
  }
}
