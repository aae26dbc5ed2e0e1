import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { busAddress } from "../shared/dbus-address.js";
import { ClanError } from "../shared/errors.js";
import { isAlive, readTail, spawnDetached } from "./qemu-process.js";
import type { VmIdentity } from "./vm-identity.js";
import type { VmPaths } from "./vm-paths.js";

// A VM with display "dbus" gets a dbus-daemon of its own, on which QEMU exports its display (org.qemu) and
// clan-viewer reads it. It is nobody else's bus: not the user's session bus (where QEMU could reach clan-vmd), not
// another VM's. dbus-daemon cannot admit QEMU's uid by credentials (the uid has no passwd entry, and dbus-daemon
// refuses every uid it cannot look up), so the bus takes anonymous connections and the directory decides who
// connects: it belongs to clan-vmd's user, and only QEMU's group may enter it (0710) — reached by QEMU through a
// descriptor, as its parents are closed to it. The daemon runs as clan-vmd's user, out of the guest's reach.

const APPEAR_TIMEOUT_MS = 10_000;

/** The bus's policy: whoever reaches the socket may connect (the directory admits only the user and QEMU), only
 *  org.qemu may be owned, and nothing is ever activated (no service directory). */
export function displayBusConfig(address: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>${address}</listen>
  <auth>ANONYMOUS</auth>
  <allow_anonymous/>
  <policy context="default">
    <allow own="org.qemu"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <limit name="max_incomplete_connections">4</limit>
  <limit name="max_completed_connections">16</limit>
</busconfig>
`;
}

/** Starts the VM's display bus and resolves once its socket accepts connections; returns the daemon's pid. */
export async function startDisplayBus(paths: VmPaths, identity: VmIdentity | undefined, dbusDaemonBinary: string): Promise<number> {
  const dir = paths.displayBusDir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  if (identity) {
    await chown(dir, process.getuid?.() ?? 0, identity.gid);
    await chmod(dir, 0o710);
  }
  const config = join(dir, "bus.conf");
  await writeFile(config, displayBusConfig(busAddress(paths.displayBusSocket)), { mode: 0o600 });
  const output = join(dir, "bus.out");
  const pid = spawnDetached(dbusDaemonBinary, [`--config-file=${config}`, "--nofork", "--nopidfile"], output);
  const deadline = Date.now() + APPEAR_TIMEOUT_MS;
  while (!(await stat(paths.displayBusSocket).catch(() => undefined))) {
    if (!isAlive(pid)) throw new ClanError("QemuFailed", `the VM's display bus did not start: ${(await readTail(output, 2000)).trim() || "no output"}`);
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      throw new ClanError("Timeout", `the VM's display bus did not open ${paths.displayBusSocket} within ${APPEAR_TIMEOUT_MS} ms`);
    }
    await sleep(10);
  }
  // libdbus makes the socket 0777; the directory above it is the gate. QEMU (another uid) must be able to connect.
  await chmod(paths.displayBusSocket, 0o777);
  return pid;
}

/** Whether `pid` is still the display bus daemon of these paths (a recorded pid may have been reused). */
export async function isDisplayBusOf(pid: number, paths: VmPaths): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return commandLine.split("\0").includes(`--config-file=${join(paths.displayBusDir, "bus.conf")}`);
}

export async function removeDisplayBus(paths: VmPaths): Promise<void> {
  await rm(paths.displayBusDir, { recursive: true, force: true });
}
