import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A private dbus-daemon per test file: these machines have no systemd and no user bus, and a shared bus
// would let tests see each other's names.

export interface SessionBus {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** `env` reaches the bus and whatever it activates (XDG_DATA_HOME chooses where it looks for service files). */
export async function startSessionBus(env: Record<string, string> = {}): Promise<SessionBus> {
  const dir = await mkdtemp(join(tmpdir(), "clan-bus-"));
  const address = `unix:path=${join(dir, "bus")}`;
  const { stdout } = await execa("dbus-daemon", ["--session", `--address=${address}`, "--fork", "--print-pid"], { env });
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
