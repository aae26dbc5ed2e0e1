import { execa } from "execa";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A private dbus-daemon per test file: these machines have no systemd and no user bus, and a shared bus
// would let tests see each other's names.

export interface SessionBus {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** A bus run by a user that admits that user and root (the test process that drives the daemons with typed clients). */
export const USER_BUS_CONFIG = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/session.conf</include>
  <policy context="default"><allow user="root"/></policy>
</busconfig>
`;

/**
 * A private session bus; with `user`, one that user runs, for daemons that run as that user. `env` reaches the bus
 * and whatever it activates (XDG_DATA_HOME chooses where it looks for service files).
 */
export async function startSessionBus(user?: { uid: number; gid: number }, env?: Record<string, string>): Promise<SessionBus> {
  const dir = await mkdtemp(join(tmpdir(), "clan-bus-"));
  const address = `unix:path=${join(dir, "bus")}`;
  let command = ["dbus-daemon", "--session", `--address=${address}`, "--fork", "--print-pid"];
  if (user) {
    await writeFile(join(dir, "bus.conf"), USER_BUS_CONFIG);
    await chown(dir, user.uid, user.gid);
    command = ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "dbus-daemon", `--config-file=${join(dir, "bus.conf")}`, `--address=${address}`, "--fork", "--print-pid"];
  }
  const { stdout } = await execa(command[0]!, command.slice(1), env ? { env, extendEnv: false } : {});
  const pid = Number(stdout.trim());
  return {
    address,
    pid,
    async stop() {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone: nothing to stop.
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
