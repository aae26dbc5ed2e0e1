import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { acceptsConnections, collectOutput, stopProcess, waitFor } from "./processes.js";

// A real i3 4.22 on its own Xvfb display. Root is fine for i3. The IPC socket path is fixed by the config, so it
// stays the same across restarts of either kind.

export interface I3UnderXvfbOptions {
  /** Lines appended to the minimal config. */
  config?: string;
  /** Run i3 with this XDG_RUNTIME_DIR and no `ipc-socket` line, so that it listens on its default socket,
   *  XDG_RUNTIME_DIR/i3/ipc-socket.<pid>, as on a desktop. */
  runtimeDir?: string;
}

export type I3RestartMode = "in-place" | "new-process";

export interface I3UnderXvfb {
  readonly socketPath: string;
  /** ":N", for DISPLAY. */
  readonly display: string;
  readonly configPath: string;
  readonly pid: number;
  /**
   * "in-place": i3's own `restart` command (i3 re-executes itself, keeping its windows); "new-process": kill i3 and
   * start a new one. Resolves when the new i3 answers on the socket.
   */
  restart(mode?: I3RestartMode): Promise<void>;
  /** Starts an X11 client on this display; it is killed by stop(). */
  spawnClient(command: string, args?: string[], env?: Record<string, string>): ResultPromise;
  /** Kills i3, Xvfb and every client started here, and removes the temp dir. */
  stop(): Promise<void>;
  log(): string;
}

export async function startI3UnderXvfb(options: I3UnderXvfbOptions = {}): Promise<I3UnderXvfb> {
  const dir = await mkdtemp(join(tmpdir(), "clan-i3-"));
  const { runtimeDir } = options;
  const fixedSocket = join(dir, "ipc.sock");
  const socketOf = (pid: number) => (runtimeDir === undefined ? fixedSocket : join(runtimeDir, "i3", `ipc-socket.${pid}`));
  const configPath = join(dir, "i3.conf");
  // Without the v4 header i3 takes the file for a v3 config, converts it and adds a bar.
  const socketLine = runtimeDir === undefined ? `ipc-socket ${fixedSocket}\n` : "";
  await writeFile(configPath, `# i3 config file (v4)\n${socketLine}font pango:monospace 8\n${options.config ?? ""}`);
  const xvfb = await startXvfb();
  const clients = new Set<ResultPromise>();
  const environment: Record<string, string> = runtimeDir === undefined ? {} : { XDG_RUNTIME_DIR: runtimeDir };
  let i3: RunningI3;
  try {
    i3 = await launchI3(xvfb.display, configPath, socketOf, environment);
  } catch (error) {
    await stopProcess(xvfb.process);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    get socketPath() {
      return socketOf(i3.pid);
    },
    display: xvfb.display,
    configPath,
    get pid() {
      return i3.pid;
    },
    async restart(mode = "in-place") {
      if (mode === "new-process") {
        await stopProcess(i3.process);
        i3 = await launchI3(xvfb.display, configPath, socketOf, environment);
        return;
      }
      // i3 closes every IPC connection, re-executes itself and binds its socket anew. A connection of our own
      // tells when the old i3 has let go; only a reply tells that the new one is listening.
      const socketPath = socketOf(i3.pid);
      let released = false;
      const sentinel = createConnection(socketPath).once("close", () => {
        released = true;
      });
      await new Promise<void>((resolve, reject) => sentinel.once("connect", resolve).once("error", reject));
      const result = await execa("i3-msg", ["-s", socketPath, "restart"], { reject: false });
      if (result.exitCode !== 0) throw new Error(`i3-msg restart failed: ${result.stdout} ${result.stderr}`);
      await waitFor("i3 to close its IPC connections for the restart", () => (released ? true : undefined));
      await waitFor("i3 to answer again after restart", async () => {
        const version = await execa("i3-msg", ["-s", socketPath, "-t", "get_version"], { reject: false, timeout: 1000 });
        return version.exitCode === 0 ? true : undefined;
      });
    },
    spawnClient(command, args = [], env = {}) {
      const child = execa(command, args, { env: { ...process.env, DISPLAY: xvfb.display, ...env }, reject: false, stdin: "ignore" });
      clients.add(child);
      void child.finally(() => clients.delete(child));
      return child;
    },
    async stop() {
      await Promise.all([...clients].map((client) => stopProcess(client)));
      await stopProcess(i3.process);
      await stopProcess(xvfb.process);
      await rm(dir, { recursive: true, force: true });
    },
    log: () => i3.log(),
  };
}

interface RunningI3 {
  process: ResultPromise;
  pid: number;
  log(): string;
}

async function launchI3(display: string, configPath: string, socketOf: (pid: number) => string, environment: Record<string, string>): Promise<RunningI3> {
  const child = execa("i3", ["-c", configPath], { env: { ...process.env, DISPLAY: display, ...environment }, reject: false, stdin: "ignore" });
  const log = collectOutput(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start i3: ${log()}`);
  const socketPath = socketOf(pid);
  await waitFor(`i3 to listen on ${socketPath}`, async () => {
    if (child.exitCode !== null) throw new Error(`i3 exited with ${child.exitCode} before its IPC was ready:\n${log()}`);
    return (await acceptsConnections(socketPath)) ? true : undefined;
  });
  return { process: child, pid, log };
}

/** Xvfb picks a free display itself (-displayfd) and tells us which, so parallel harnesses never collide. */
async function startXvfb(): Promise<{ process: ResultPromise; display: string }> {
  // fd 1: Xvfb logs to stderr, so its stdout carries nothing but the display number.
  const child = execa("Xvfb", ["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], { reject: false, stdin: "ignore" });
  const log = collectOutput(child);
  let written = "";
  child.stdout.on("data", (chunk: Buffer) => {
    written += chunk.toString("utf8");
  });
  const number = await waitFor("Xvfb to report its display number", () => {
    if (child.exitCode !== null) throw new Error(`Xvfb exited with ${child.exitCode}:\n${log()}`);
    return /^\d+\n/.exec(written)?.[0].trim();
  });
  return { process: child, display: `:${number}` };
}
