import { join } from "node:path";
import { ClanError } from "../shared/errors.js";
import type { VmStatus } from "../shared/vm-api.js";
import { MAX_WAYPIPE_PORTS } from "../shared/vm-spec.js";

// Where a VM's files live. Runtime files (sockets, the adoption record) go under the runtime
// directory and vanish with the session; the state disk and console log persist under the state directory.

export interface VmdDirectories {
  runtimeRoot: string;
  stateRoot: string;
}

export interface VmPaths {
  runtimeDir: string;
  qmpSocket: string;
  guestAgentSocket: string;
  controlSocket: string;
  spiceSocket: string;
  /** QEMU's end of waypipe port `index` (org.clan.waypipe.<index>). Port 0 keeps the name it had when a VM had
   *  only one, so that a clan-vmd restarted over such a VM finds its socket. */
  waypipeSocket: (index: number) => string;
  /** The VM's private display bus (display "dbus"): beside the runtime directory, not in it, because QEMU owns
   *  the runtime directory and could put another socket (or a link to another bus) where the viewer connects. */
  displayBusDir: string;
  displayBusSocket: string;
  record: string;
  /** QEMU's standard output and error, named in a VM's error when QEMU fails. */
  qemuOutput: string;
  stateDir: string;
  stateDisk: string;
  consoleLog: string;
  shareSocket: (tag: string) => string;
}

/** Network names have no '.', so no network's runtime directory ends like this. */
export const DISPLAY_BUS_SUFFIX = ".dbus";

// sockaddr_un.sun_path is 108 bytes including the terminating NUL.
const UNIX_SOCKET_PATH_LIMIT = 107;

export function vmPaths(directories: VmdDirectories, network: string): VmPaths {
  for (const root of [directories.runtimeRoot, directories.stateRoot]) {
    // These paths end up inside QEMU option strings, where ',' separates options.
    if (/[,\0\n]/.test(root)) throw new ClanError("InvalidArgument", `directory ${root} must not contain ',' or control characters`);
  }
  const runtimeDir = join(directories.runtimeRoot, network);
  const stateDir = join(directories.stateRoot, network);
  const displayBusDir = join(directories.runtimeRoot, `${network}${DISPLAY_BUS_SUFFIX}`);
  const socket = (name: string, dir = runtimeDir) => {
    const path = join(dir, name);
    if (Buffer.byteLength(path) > UNIX_SOCKET_PATH_LIMIT) {
      throw new ClanError(
        "InvalidArgument",
        `socket path ${path} is longer than ${UNIX_SOCKET_PATH_LIMIT} bytes; choose a shorter --runtime-dir`,
      );
    }
    return path;
  };
  const waypipeSocket = (index: number) => socket(index === 0 ? "waypipe.sock" : `waypipe-${index}.sock`);
  const paths: VmPaths = {
    runtimeDir,
    qmpSocket: socket("qmp.sock"),
    guestAgentSocket: socket("qga.sock"),
    controlSocket: socket("control.sock"),
    spiceSocket: socket("spice.sock"),
    waypipeSocket,
    displayBusDir,
    displayBusSocket: socket("bus", displayBusDir),
    record: join(runtimeDir, "vm.json"),
    qemuOutput: join(runtimeDir, "qemu.out"),
    stateDir,
    stateDisk: join(stateDir, "state.qcow2"),
    consoleLog: join(stateDir, "console.log"),
    shareSocket: (tag) => socket(`fs-${tag}.sock`),
  };
  // The longest fixed name: a runtime root too long for it is refused when clan-vmd starts, not when a VM boots.
  waypipeSocket(MAX_WAYPIPE_PORTS - 1);
  return paths;
}

/** The per-user directory in the shared temporary directory used when there is no XDG_RUNTIME_DIR, which must be
 *  claimed (claimPrivateDirectory) before use; undefined when XDG_RUNTIME_DIR is set. */
export function sharedRuntimeFallback(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_RUNTIME_DIR) return undefined;
  return join(env.TMPDIR || "/tmp", `clan-vmd-${process.getuid?.() ?? "user"}`);
}

export function defaultDirectories(env: NodeJS.ProcessEnv): VmdDirectories {
  const home = env.HOME ?? "/tmp";
  const runtime = env.XDG_RUNTIME_DIR || sharedRuntimeFallback(env)!;
  const state = env.XDG_STATE_HOME ?? join(home, ".local", "state");
  return { runtimeRoot: join(runtime, "clan-vmd"), stateRoot: join(state, "clan-desktop", "vms") };
}

/** The sockets a VM with `display` offers its viewer, as its status names them. */
export function displaySockets(paths: VmPaths, display: VmStatus["display"], waypipePorts: number): Pick<VmStatus, "display" | "displaySocket" | "waypipeSockets"> {
  const waypipeSockets = display === "waypipe" ? Array.from({ length: waypipePorts }, (_, index) => paths.waypipeSocket(index)) : [];
  const socket = { none: "", spice: paths.spiceSocket, waypipe: waypipeSockets[0] ?? "", dbus: paths.displayBusSocket }[display];
  return { display, displaySocket: socket, waypipeSockets };
}
