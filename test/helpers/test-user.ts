import { execa } from "execa";

// The unprivileged user that runs what refuses root or must share a uid: sway (test/helpers/sway.ts has its own
// copy) and the GNOME Shell session with its bus and daemons (gnome-shell.ts). Created on first use.

export const TEST_USER = "clantest";

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export async function ensureTestUser(name = TEST_USER): Promise<TestUser> {
  const lookup = async () => execa("getent", ["passwd", name], { reject: false });
  let entry = await lookup();
  if (entry.exitCode !== 0) {
    // Exit status 9: another test file created the user meanwhile, which is just as good.
    const created = await execa("useradd", ["-m", name], { reject: false });
    if (created.exitCode !== 0 && created.exitCode !== 9) throw new Error(`useradd ${name} failed: ${created.stderr}`);
    entry = await lookup();
  }
  const [, , uid, gid, , home] = entry.stdout.trim().split(":");
  if (uid === undefined || gid === undefined || home === undefined) throw new Error(`unexpected passwd entry: ${entry.stdout}`);
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/** The argv prefix that runs a command as `user` with its groups (setpriv execs, so the pid stays the command's). */
export function asUser(user: TestUser): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups"];
}
