import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

// Private directories for the state disk copies that backups and restores pass through. A copy is as large as
// the VM's disk, so they live under the state directory (a disk, next to the VMs' own state) rather than in the
// RAM-backed runtime directory. Each directory's name starts with the pid of the clan-sessiond that made it, so
// that a later instance removes what a crashed one left behind, and never what a running one still uses.

export class WorkDirectories {
  constructor(private readonly root: string) {}

  /** A fresh directory only this user can enter; the caller removes it with `remove`. */
  async create(purpose: string): Promise<string> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    return mkdtemp(join(this.root, `${process.pid}-${purpose}-`));
  }

  async remove(directory: string): Promise<void> {
    await rm(directory, { recursive: true, force: true });
  }

  /** Removes the directories of clan-sessiond processes that no longer run; returns how many. */
  async removeAbandoned(): Promise<number> {
    const entries = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    });
    const abandoned = entries.filter((name) => {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      return Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
    });
    for (const name of abandoned) await rm(join(this.root, name), { recursive: true, force: true });
    return abandoned.length;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
