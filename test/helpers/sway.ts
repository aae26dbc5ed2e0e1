import { chown, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { acceptsConnections, collectOutput, stopProcess, waitFor } from "./processes.js";

// A real sway (1.7 on Debian 12, 1.10 in the Debian 13 lane) on the headless wlroots backend. sway refuses to run
// as root, so it runs as the unprivileged user `clantest` (created on first use) with a fresh 0700 XDG_RUNTIME_DIR
// of its own; root, which runs the tests, can still connect to its IPC and Wayland sockets.

const TEST_USER = "clantest";

const BASE_CONFIG = `# Written by test/helpers/sway.ts: no bar, no systemd or D-Bus imports, one known output.
output HEADLESS-1 resolution 1280x800
font pango:monospace 10
`;

export interface HeadlessSwayOptions {
  /** Lines appended to the minimal config. */
  config?: string;
  /** A runtime dir made earlier with createSwayRuntimeDir (for a client started before sway); a fresh one otherwise. */
  runtimeDir?: string;
  /** A whole config instead of the minimal one (e.g. Debian's stock /etc/sway/config): `config` is appended. */
  baseConfig?: string;
}

/** A fresh 0700 XDG_RUNTIME_DIR owned by the test user, for sway to be started in later. */
export async function createSwayRuntimeDir(): Promise<string> {
  const { uid, gid } = await ensureTestUser();
  const runtimeDir = await mkdtemp("/tmp/clan-sway-");
  await chown(runtimeDir, uid, gid);
  return runtimeDir;
}

export interface HeadlessSway {
  /** The current sway's IPC socket: a restart changes it (sway-ipc.<uid>.<pid>.sock). */
  readonly socketPath: string;
  /** Absolute path of the Wayland socket, usable as WAYLAND_DISPLAY. */
  readonly waylandDisplay: string;
  readonly runtimeDir: string;
  readonly configPath: string;
  readonly uid: number;
  readonly pid: number;
  /** Finds the live sway's socket in the runtime dir: an IpcClient `discover` that follows restarts. */
  discoverSocket(): Promise<string>;
  /** Starts a Wayland client (as root) on this sway; it is killed by stop(). */
  spawnClient(command: string, args?: string[], env?: Record<string, string>): ResultPromise;
  /** Kills sway (SIGTERM) and starts a new one on the same runtime dir and config. */
  restart(): Promise<void>;
  /** Kills sway and every client started here, and removes the runtime dir. */
  stop(): Promise<void>;
  /** What sway printed, for failure messages. */
  log(): string;
}

export async function startHeadlessSway(options: HeadlessSwayOptions = {}): Promise<HeadlessSway> {
  const { uid, gid, home } = await ensureTestUser();
  const runtimeDir = options.runtimeDir ?? (await createSwayRuntimeDir());
  const configPath = join(runtimeDir, "sway.conf");
  await writeFile(configPath, (options.baseConfig ?? BASE_CONFIG) + (options.config ?? ""), { mode: 0o644 });
  const clients = new Set<ResultPromise>();
  let current = await launch({ uid, gid, home, runtimeDir, configPath });

  const stopSway = async (): Promise<void> => {
    await stopProcess(current.process);
  };
  const harness: HeadlessSway = {
    get socketPath() {
      return current.socketPath;
    },
    get waylandDisplay() {
      return current.waylandDisplay;
    },
    get pid() {
      return current.pid;
    },
    runtimeDir,
    configPath,
    uid,
    discoverSocket: async () => {
      const path = await findSwaySocket(runtimeDir, uid, current.pid);
      if (path === undefined) throw new Error(`no IPC socket of sway ${current.pid} in ${runtimeDir}`);
      return path;
    },
    spawnClient(command, args = [], env = {}) {
      const child = execa(command, args, {
        env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, WAYLAND_DISPLAY: current.waylandDisplay, GDK_BACKEND: "wayland", ...env },
        reject: false,
        stdin: "ignore",
      });
      clients.add(child);
      void child.finally(() => clients.delete(child));
      return child;
    },
    async restart() {
      await stopSway();
      current = await launch({ uid, gid, home, runtimeDir, configPath });
    },
    async stop() {
      await Promise.all([...clients].map((client) => stopProcess(client)));
      await stopSway();
      await rm(runtimeDir, { recursive: true, force: true });
    },
    log: () => current.log(),
  };
  return harness;
}

interface RunningSway {
  process: ResultPromise;
  pid: number;
  socketPath: string;
  waylandDisplay: string;
  log(): string;
}

interface LaunchSettings {
  uid: number;
  gid: number;
  home: string;
  runtimeDir: string;
  configPath: string;
}

async function launch(settings: LaunchSettings): Promise<RunningSway> {
  const { uid, gid, home, runtimeDir, configPath } = settings;
  const child = execa("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "sway", "-c", configPath], {
    cwd: runtimeDir,
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: home,
      XDG_RUNTIME_DIR: runtimeDir,
      WLR_BACKENDS: "headless",
      WLR_LIBINPUT_NO_DEVICES: "1",
      WLR_RENDERER: "pixman",
    },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });
  const log = collectOutput(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start sway: ${log()}`);
  // setpriv execs sway, so the child's pid is sway's, and so is the one in the socket name.
  const socketPath = await waitFor(`sway ${pid} to listen on IPC\n${log()}`, async () => {
    if (child.exitCode !== null) throw new Error(`sway exited with ${child.exitCode} before its IPC was ready:\n${log()}`);
    const path = await findSwaySocket(runtimeDir, uid, pid);
    return path !== undefined && (await acceptsConnections(path)) ? path : undefined;
  });
  const waylandDisplay = await waitFor(`sway ${pid}'s Wayland socket`, async () => {
    const names = await readdir(runtimeDir);
    const name = names.find((entry) => /^wayland-\d+$/.test(entry));
    return name === undefined ? undefined : join(runtimeDir, name);
  });
  return { process: child, pid, socketPath, waylandDisplay, log };
}

async function findSwaySocket(runtimeDir: string, uid: number, pid: number): Promise<string | undefined> {
  const name = `sway-ipc.${uid}.${pid}.sock`;
  const names = await readdir(runtimeDir);
  return names.includes(name) ? join(runtimeDir, name) : undefined;
}

async function ensureTestUser(): Promise<{ uid: number; gid: number; home: string }> {
  const lookup = async () => execa("getent", ["passwd", TEST_USER], { reject: false });
  let entry = await lookup();
  if (entry.exitCode !== 0) {
    // Exit status 9: another test file created the user meanwhile, which is just as good.
    const created = await execa("useradd", ["-m", TEST_USER], { reject: false });
    if (created.exitCode !== 0 && created.exitCode !== 9) throw new Error(`useradd ${TEST_USER} failed: ${created.stderr}`);
    entry = await lookup();
  }
  const [, , uid, gid, , home] = entry.stdout.trim().split(":");
  if (uid === undefined || gid === undefined || home === undefined) throw new Error(`unexpected passwd entry: ${entry.stdout}`);
  return { uid: Number(uid), gid: Number(gid), home };
}
