import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { collectOutput, isRunning, stopProcess, waitFor } from "./processes.js";
import { flavourForShell, installedShellMajor, PROBE_UUID, writeProbeExtension } from "./gnome-probe.js";
import { USER_BUS_CONFIG } from "./session-bus.js";
import { asUser, ensureTestUser, type TestUser } from "./test-user.js";

// A real GNOME Shell (43 on Debian 12, 48 in the Debian 13 lane) on its headless Wayland backend, as the unprivileged user `clantest`, with a fresh HOME
// and XDG_RUNTIME_DIR (extension state lives in dconf under HOME), its own session bus, and a second
// dbus-daemon standing in for the system bus (these machines have none). Everything that must talk to the shell
// on its bus (clan-vmd, clan-sessiond) runs as the same user through spawnAsUser(); the session bus also lets
// root in, so that the test process itself can call the shell and the daemons.

export interface HeadlessGnomeOptions {
  /** Extension zips for `gnome-extensions install`, or unpacked extension directories (copied as they are). */
  extensions: string[];
  /** UUIDs enabled before the shell starts. */
  enabled: string[];
  /** Also install and enable the test-only probe extension, in the format this shell loads (gnome-probe.ts). */
  probe?: boolean;
  /** The virtual monitor, "1280x800" unless given. */
  monitor?: string;
}

export interface HeadlessGnome {
  user: TestUser;
  root: string;
  home: string;
  runtimeDir: string;
  sessionBusAddress: string;
  /** Environment of a process of this session: HOME, XDG_RUNTIME_DIR, both bus addresses, WAYLAND_DISPLAY. */
  env: Record<string, string>;
  /** Runs a command as the session's user in its environment and waits for it. */
  runAsUser(command: string, args: string[], env?: Record<string, string>): Promise<{ exitCode: number | undefined; all: string }>;
  /** Starts a long-running process as the session's user; stop() ends it. */
  spawnAsUser(command: string, args: string[], env?: Record<string, string>): { process: ResultPromise; log: () => string };
  /** Everything GNOME Shell printed (extension log lines included). */
  log(): string;
  /** Resolves when the shell's output matches `pattern` (counting only output after `from` characters). */
  waitForLog(pattern: RegExp, from?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startHeadlessGnome(options: HeadlessGnomeOptions): Promise<HeadlessGnome> {
  const user = await ensureTestUser();
  const root = await mkdtemp("/tmp/clan-gnome-");
  const home = join(root, "home");
  const runtimeDir = join(root, "run");
  for (const dir of [home, runtimeDir]) await mkdir(dir, { mode: 0o700 });
  await writeFile(join(root, "session-bus.conf"), USER_BUS_CONFIG);
  await chownTree(root, user);

  const children: { process: ResultPromise; log: () => string }[] = [];
  const baseEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: runtimeDir, LANG: "C.UTF-8" };
  const spawnAsUser = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = execa("setpriv", [...asUser(user), command, ...args], { cwd: root, env: { ...baseEnv, ...env }, extendEnv: false, reject: false, stdin: "ignore" });
    const entry = { process: child, log: collectOutput(child) };
    children.push(entry);
    return entry;
  };

  const sessionBusAddress = `unix:path=${join(runtimeDir, "bus")}`;
  const systemBusAddress = `unix:path=${join(runtimeDir, "system-bus")}`;
  spawnAsUser("dbus-daemon", [`--config-file=${join(root, "session-bus.conf")}`, "--nofork", `--address=${sessionBusAddress}`]);
  spawnAsUser("dbus-daemon", ["--session", "--nofork", `--address=${systemBusAddress}`]);
  await waitFor("the session and system buses", async () => {
    const names = await readdir(runtimeDir);
    return names.includes("bus") && names.includes("system-bus") ? true : undefined;
  });
  const env: Record<string, string> = {
    ...baseEnv,
    DBUS_SESSION_BUS_ADDRESS: sessionBusAddress,
    DBUS_SYSTEM_BUS_ADDRESS: systemBusAddress,
    XDG_CURRENT_DESKTOP: "GNOME",
    // GNOME Shell's Wayland socket; the shell names it wayland-0 in its fresh runtime dir.
    WAYLAND_DISPLAY: "wayland-0",
  };
  const runAsUser = async (command: string, args: string[], extra: Record<string, string> = {}) => {
    const result = await execa("setpriv", [...asUser(user), command, ...args], { cwd: root, env: { ...env, ...extra }, extendEnv: false, reject: false, all: true });
    return { exitCode: result.exitCode, all: result.all ?? "" };
  };

  const extensions = [...options.extensions];
  const enabledUuids = [...options.enabled];
  if (options.probe) {
    const major = installedShellMajor();
    if (major === undefined) throw new Error("gnome-shell is not installed");
    extensions.push(await writeProbeExtension(flavourForShell(major), join(root, "probe")));
    enabledUuids.unshift(PROBE_UUID);
  }
  for (const extension of extensions) await installExtension(extension, { home, user, runAsUser });
  // GNOME's own workspace settings (dynamic workspaces): what users have, and what the extension must cope with.
  const enabled = `[${enabledUuids.map((uuid) => `'${uuid}'`).join(", ")}]`;
  const set = await runAsUser("gsettings", ["set", "org.gnome.shell", "enabled-extensions", enabled]);
  if (set.exitCode !== 0) throw new Error(`cannot enable extensions: ${set.all}`);

  const shell = spawnAsUser("gnome-shell", ["--headless", "--virtual-monitor", options.monitor ?? "1280x800", "--wayland", "--no-x11"], env);
  const harness: HeadlessGnome = {
    user,
    root,
    home,
    runtimeDir,
    sessionBusAddress,
    env,
    runAsUser,
    spawnAsUser: (command, args, extra = {}) => spawnAsUser(command, args, { ...env, ...extra }),
    log: shell.log,
    async waitForLog(pattern, from = 0, timeoutMs = 20_000) {
      await waitFor(`GNOME Shell to print ${pattern}\n${shell.log().slice(-4000)}`, () => {
        if (!isRunning(shell.process)) throw new Error(`gnome-shell exited (${shell.process.exitCode}):\n${shell.log().slice(-4000)}`);
        return pattern.test(shell.log().slice(from)) ? true : undefined;
      }, timeoutMs);
    },
    async stop() {
      for (const child of children.reverse()) await stopProcess(child.process);
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    await harness.waitForLog(/GNOME Shell started/, 0, 60_000);
  } catch (error) {
    await harness.stop();
    throw error;
  }
  return harness;
}

async function installExtension(
  source: string,
  session: { home: string; user: TestUser; runAsUser: HeadlessGnome["runAsUser"] },
): Promise<void> {
  if (source.endsWith(".zip")) {
    const result = await session.runAsUser("gnome-extensions", ["install", "--force", source]);
    if (result.exitCode !== 0) throw new Error(`gnome-extensions install ${source} failed: ${result.all}`);
    return;
  }
  const metadata = JSON.parse(await readFile(join(source, "metadata.json"), "utf8")) as { uuid: string };
  const target = join(session.home, ".local/share/gnome-shell/extensions", metadata.uuid);
  await cp(source, target, { recursive: true });
  await chownTree(join(session.home, ".local"), session.user);
}

async function chownTree(path: string, user: TestUser): Promise<void> {
  await execa("chown", ["-R", `${user.uid}:${user.gid}`, path]);
}
