import { mkdir, rm, stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { ClanError } from "../shared/errors.js";
import { pulseAudioServer } from "./audio-server.js";
import type { Generation } from "./generation.js";
import { type Accelerator, qemuArguments } from "./qemu-command.js";
import { isAlive, readTail, spawnDetached } from "./qemu-process.js";
import { QmpClient } from "./qmp-client.js";
import { isStoreShare, storeShareCommand } from "./store-view.js";
import type { VmPaths } from "./vm-paths.js";
import type { QemuNetwork } from "./vpn/network-vpn.js";

// Everything between "start this generation" and "QEMU answers on QMP": directories, the state disk,
// virtiofs daemons, the QEMU process. Readiness of the guest is the supervisor's business.

export interface LaunchOptions {
  network: string;
  generation: Generation;
  paths: VmPaths;
  accelerator: Accelerator;
  qemuBinary: string;
  virtiofsdBinary: string;
  signal: AbortSignal;
  /** Brings up what the VM's network needs (a VPN namespace) once the runtime directory exists. */
  prepareNetwork: () => Promise<QemuNetwork>;
}

export interface LaunchedVm {
  pid: number;
  qmp: QmpClient;
  /** virtiofsd processes, stopped with the VM. */
  helperPids: number[];
}

const QMP_APPEAR_TIMEOUT_MS = 15_000;

export async function launchVm(options: LaunchOptions): Promise<LaunchedVm> {
  const { paths, generation } = options;
  await rm(paths.runtimeDir, { recursive: true, force: true });
  await mkdir(paths.runtimeDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const withStateDisk = generation.vm.stateDiskMiB > 0;
  if (withStateDisk) await ensureStateDisk(paths.stateDisk, generation.vm.stateDiskMiB);
  const helperPids = await startShareDaemons(options);
  const connection = await options.prepareNetwork().catch((error: unknown) => {
    for (const helper of helperPids) if (isAlive(helper)) process.kill(helper, "SIGKILL");
    throw error;
  });
  const qemuOutput = `${paths.runtimeDir}/qemu.out`;
  const audioServer = generation.vm.audio === "host" ? pulseAudioServer(process.env) : undefined;
  const args = qemuArguments({ network: options.network, generation, paths, accelerator: options.accelerator, withStateDisk, connection, audioServer });
  // With a VPN, QEMU runs inside the network's namespace: even a QEMU taken over by its guest has no other network.
  const pid =
    connection.kind === "tap"
      ? spawnDetached("ip", ["netns", "exec", connection.namespace, options.qemuBinary, ...args], qemuOutput)
      : spawnDetached(options.qemuBinary, args, qemuOutput);
  try {
    const qmp = await connectQmpWhileAlive(pid, paths.qmpSocket, qemuOutput, options.signal);
    return { pid, qmp, helperPids };
  } catch (error) {
    for (const helper of [pid, ...helperPids]) if (isAlive(helper)) process.kill(helper, "SIGKILL");
    throw error;
  }
}

/** The state disk is created on first start and survives every later generation. */
async function ensureStateDisk(file: string, sizeMiB: number): Promise<void> {
  if (await stat(file).catch(() => undefined)) return;
  const result = await execa("qemu-img", ["create", "-q", "-f", "qcow2", file, `${sizeMiB}M`], { reject: false });
  if (result.exitCode !== 0) {
    await unlink(file).catch(() => undefined);
    throw new ClanError("QemuFailed", `cannot create state disk ${file}: ${result.stderr.trim()}`);
  }
}

async function startShareDaemons({ generation, paths, virtiofsdBinary }: LaunchOptions): Promise<number[]> {
  const pids: number[] = [];
  try {
    for (const share of generation.vm.shares) {
      const info = await stat(share.source).catch(() => undefined);
      if (!info?.isDirectory()) {
        throw new ClanError("InvalidGeneration", `${generation.path}/vm.json: field shares: ${share.source} is not a directory`);
      }
      const socket = paths.shareSocket(share.tag);
      const [binary, args] = isStoreShare(share)
        ? await storeShareCommand({ generationDir: generation.resolvedPath, viewDir: paths.storeView(share.tag), virtiofsd: virtiofsdBinary, socket })
        : share.readOnly
          ? readOnlyShareCommand(virtiofsdBinary, share.source, socket)
          : [virtiofsdBinary, [`--socket-path=${socket}`, "-o", `source=${share.source},cache=auto`]];
      pids.push(spawnDetached(binary, args, `${paths.runtimeDir}/virtiofsd-${share.tag}.out`));
      await waitForPath(socket, 5000, `virtiofsd for share ${share.tag}`);
    }
    return pids;
  } catch (error) {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    throw error;
  }
}

/**
 * QEMU 7.2's virtiofsd has no read-only mode, so the host enforces it: virtiofsd runs in a user and mount
 * namespace of its own, where the share is bind-mounted read-only over itself. Nothing the guest sends can
 * write through that mount. The paths are positional parameters of the script, never part of its text.
 */
function readOnlyShareCommand(virtiofsd: string, source: string, socket: string): [string, string[]] {
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" --socket-path="$3" -o source="$1",cache=auto';
  return ["unshare", ["--user", "--map-root-user", "--mount", "--", "sh", "-c", script, "sh", source, virtiofsd, socket]];
}

async function waitForPath(path: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await stat(path).catch(() => undefined)) return;
    await sleep(20);
  }
  throw new ClanError("QemuFailed", `${what} did not create ${path} within ${timeoutMs} ms`);
}

async function connectQmpWhileAlive(pid: number, socket: string, qemuOutput: string, signal: AbortSignal): Promise<QmpClient> {
  const deadline = Date.now() + QMP_APPEAR_TIMEOUT_MS;
  for (;;) {
    if (signal.aborted) throw new ClanError("InvalidState", "start was cancelled by a stop");
    if (!isAlive(pid)) {
      const output = (await readTail(qemuOutput, 2000)).trim();
      throw new ClanError("QemuFailed", `QEMU exited at start: ${output || "no output"}`);
    }
    if (await stat(socket).catch(() => undefined)) {
      try {
        return await QmpClient.connect(socket, 5000);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    if (Date.now() > deadline) throw new ClanError("Timeout", `QEMU did not open its QMP socket within ${QMP_APPEAR_TIMEOUT_MS} ms`);
    await sleep(10);
  }
}
