import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import type { ConfigInput } from "../../src/session/config/schema.js";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import { SessionClient } from "../../src/shared/session-client.js";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { REPO, waitForNetworkStatus } from "./daemons.js";
import { collectOutput, stopProcess, waitFor } from "./processes.js";
import { USER_BUS_CONFIG } from "./session-bus.js";

// The back half of a session as an unprivileged user runs it: that user's own session bus, clan-vmd and
// clan-sessiond, all as the user. Needed where a process the window manager starts as its user must reach
// clan-sessiond — swaybar's status_command: a session bus admits only its owner's uid. The bus here also admits
// root, so that the test process can watch and drive the daemons with the typed clients.


export interface SessionUser {
  uid: number;
  gid: number;
}

export interface UserDaemon {
  process: ResultPromise;
  output(): string;
  stop(): Promise<void>;
}

export interface UserSession {
  /** Owned by the user, 0700: bus socket, config, the daemons' state. */
  dir: string;
  busAddress: string;
  configFile: string;
  /** The environment of the user's session processes (bus address, config, HOME, runtime dir). */
  env: Record<string, string>;
  session: SessionClient;
  vms: VmdClient;
  readonly sessiond: UserDaemon;
  /** Starts `command` as the user in this session's environment (plus `extraEnv`); stop() ends it. */
  spawn(command: string, args: string[], extraEnv?: Record<string, string>): UserDaemon;
  startSessiond(): Promise<void>;
  stopSessiond(): Promise<void>;
  waitForNetwork(name: string, predicate: (status: NetworkStatus) => boolean, timeoutMs?: number): Promise<NetworkStatus>;
  stop(): Promise<void>;
}

export interface UserSessionOptions {
  config: ConfigInput;
  /** How clan-sessiond finds the window manager (SWAYSOCK, WAYLAND_DISPLAY, …). */
  wmEnv: Record<string, string>;
  /** More of the session's environment (NIX_STATE_DIR for nix-env as the user, …). */
  env?: Record<string, string>;
  /**
   * clan-vmd and clan-sessiond run as root (on the user's bus, which admits root), where a test needs what only root
   * may do on these machines: building with the Nix store. The windows still run as the user.
   */
  daemonsAsRoot?: boolean;
}

export async function startUserSession(user: SessionUser, options: UserSessionOptions): Promise<UserSession> {
  const dir = await mkdtemp("/tmp/clan-user-session-");
  await chmod(dir, 0o700);
  const configFile = join(dir, "config.json");
  await writeFile(join(dir, "bus.conf"), USER_BUS_CONFIG);
  await writeFile(configFile, JSON.stringify(options.config, null, 2));
  for (const sub of ["run", "state", "home"]) await mkdir(join(dir, sub), { mode: 0o700 });
  for (const path of [dir, join(dir, "bus.conf"), configFile, join(dir, "run"), join(dir, "state"), join(dir, "home")]) {
    await chown(path, user.uid, user.gid);
  }
  const busAddress = `unix:path=${join(dir, "bus")}`;
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: join(dir, "home"),
    XDG_STATE_HOME: join(dir, "state", "xdg"),
    DBUS_SESSION_BUS_ADDRESS: busAddress,
    CLAN_DESKTOP_CONFIG: configFile,
    ...options.wmEnv,
    ...options.env,
  };
  const children = new Set<ResultPromise>();
  const spawnAs = (asRoot: boolean, command: string, args: string[], extraEnv: Record<string, string> = {}): UserDaemon => {
    const [file, ...argv] = asRoot ? [command, ...args] : ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", command, ...args];
    const child = execa(file!, argv, {
      cwd: dir,
      env: { ...env, ...extraEnv },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    children.add(child);
    const output = collectOutput(child);
    return { process: child, output, stop: () => stopProcess(child, 5000) };
  };
  const spawnAsUser = (command: string, args: string[], extraEnv: Record<string, string> = {}) => spawnAs(false, command, args, extraEnv);
  const startDaemon = async (bin: string, args: string[]): Promise<UserDaemon> => {
    const daemon = spawnAs(options.daemonsAsRoot === true, "node", [join(REPO, "bin", `${bin}.js`), ...args]);
    await waitFor(`${bin} to serve its bus name`, () => {
      if (daemon.process.exitCode !== null) throw new Error(`${bin} exited (${daemon.process.exitCode}):\n${daemon.output()}`);
      return /serving org\.clan\.Desktop\./.test(daemon.output()) ? true : undefined;
    }, 20_000);
    return daemon;
  };

  let client: MessageBus | undefined;
  try {
    const bus = spawnAsUser("dbus-daemon", [`--config-file=${join(dir, "bus.conf")}`, "--nofork", `--address=${busAddress}`]);
    await waitFor(`the user's session bus\n${bus.output()}`, async () => ((await readdir(dir)).includes("bus") ? true : undefined));
    await startDaemon("clan-vmd", ["--runtime-dir", join(dir, "run", "vmd"), "--state-dir", join(dir, "state", "vmd"), "--accel", "tcg", "--powerdown-timeout", "1"]);
    let sessiond = await startDaemon("clan-sessiond", []);
    client = sessionBus({ busAddress });
    const session = await SessionClient.connect(client);
    const vms = await VmdClient.connect(client);
    const openClient = client;
    return {
      dir,
      busAddress,
      configFile,
      env,
      session,
      vms,
      get sessiond() {
        return sessiond;
      },
      spawn: spawnAsUser,
      async startSessiond() {
        sessiond = await startDaemon("clan-sessiond", []);
      },
      async stopSessiond() {
        await sessiond.stop();
      },
      waitForNetwork: (name, predicate, timeoutMs) => waitForNetworkStatus(session, name, predicate, timeoutMs),
      async stop() {
        // clan-sessiond first: while it runs it starts the focused network's VM again after stopAll.
        await sessiond.stop();
        await vms.stopAll().catch(() => undefined);
        openClient.disconnect();
        // Daemons first, the bus they are on last.
        for (const child of [...children].reverse()) await stopProcess(child, 5000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    client?.disconnect();
    for (const child of [...children].reverse()) await stopProcess(child, 5000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
