import { mkdir, rm, stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { ClanError } from "../shared/errors.js";
import { pulseAudioServer } from "./audio-server.js";
import { startDisplayBus } from "./display-bus.js";
import type { PreparedStoreViews } from "./prepared-store-views.js";
import type { Generation } from "./generation.js";
import type { StartTimings } from "./start-timings.js";
import { type Accelerator, qemuArguments } from "./qemu-command.js";
import { closeAll, handOverFiles } from "./qemu-handover.js";
import { isAlive, readTail, spawnDetached } from "./qemu-process.js";
import { QmpClient } from "./qmp-client.js";
import { asIdentity, type VmIdentity } from "./vm-identity.js";
import type { VmPaths } from "./vm-paths.js";
import { startShareDaemons } from "./share-daemons.js";
import type { QemuNetwork } from "./vpn/network-vpn.js";
import { whyStartCancelled } from "./start-cancel.js";

// Everything between "start this generation" and "QEMU answers on QMP": directories, the state disk,
// virtiofs daemons, the QEMU process. Readiness of the guest is the supervisor's business.

export interface LaunchOptions {
  network: string;
  generation: Generation;
  paths: VmPaths;
  accelerator: Accelerator;
  qemuBinary: string;
  virtiofsdBinary: string;
  dbusDaemonBinary: string;
  storeViews: PreparedStoreViews;
  signal: AbortSignal;
  /** Who QEMU runs as when clan-vmd is root (vm-identity.ts); undefined: as clan-vmd's own user. */
  identity: VmIdentity | undefined;
  /** Brings up what the VM's network needs (a VPN namespace) once the runtime directory exists. */
  prepareNetwork: () => Promise<QemuNetwork>;
  timings: StartTimings;
}

export interface LaunchedVm {
  pid: number;
  qmp: QmpClient;
  /** virtiofsd processes and the display bus, stopped with the VM. */
  helperPids: number[];
  /** The display bus daemon (display "dbus"), also among helperPids: recorded for a clan-vmd that re-adopts. */
  displayBusPid: number | undefined;
}

const QMP_APPEAR_TIMEOUT_MS = 15_000;

export async function launchVm(options: LaunchOptions): Promise<LaunchedVm> {
  const { paths, generation } = options;
  await rm(paths.runtimeDir, { recursive: true, force: true });
  await mkdir(paths.runtimeDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const withStateDisk = generation.vm.stateDiskMiB > 0;
  if (withStateDisk) await ensureStateDisk(paths.stateDisk, generation.vm.stateDiskMiB);
  options.timings.mark("directories");
  const helperPids = await startShareDaemons(options);
  const displayBusPid =
    generation.vm.display === "dbus"
      ? await startDisplayBus(paths, options.identity, options.dbusDaemonBinary).catch((error: unknown) => {
          for (const helper of helperPids) if (isAlive(helper)) process.kill(helper, "SIGKILL");
          throw error;
        })
      : undefined;
  if (displayBusPid !== undefined) helperPids.push(displayBusPid);
  options.timings.mark("display bus");
  const connection = await options.prepareNetwork().catch((error: unknown) => {
    for (const helper of helperPids) if (isAlive(helper)) process.kill(helper, "SIGKILL");
    throw error;
  });
  options.timings.mark("network");
  const { qemuOutput } = paths;
  const handed = await handOverFiles(paths, generation, withStateDisk, options.identity).catch((error: unknown) => {
    for (const helper of helperPids) if (isAlive(helper)) process.kill(helper, "SIGKILL");
    throw error;
  });
  const audioServer = generation.vm.audio === "host" ? pulseAudioServer(process.env) : undefined;
  const seenByQemu = connection.kind === "tap" && connection.hostsFile ? { ...connection, hostsFile: handed.inRuntimeDir(connection.hostsFile) } : connection;
  const args = qemuArguments({ network: options.network, generation: handed.generation, paths: handed.paths, accelerator: options.accelerator, withStateDisk, connection: seenByQemu, audioServer });
  // With a VPN, QEMU runs inside the network's namespace: even a QEMU taken over by its guest has no other network.
  // The guest's own namespace is entered as QEMU's user already, since it belongs to that user (guest-namespace.ts).
  const command =
    connection.kind === "tap"
      ? [...connection.enter, ...asIdentity(options.identity, options.qemuBinary, args).flat()]
      : connection.kind === "outbound"
        ? [...connection.enter, options.qemuBinary, ...args]
        : asIdentity(options.identity, options.qemuBinary, args).flat();
  let pid: number;
  try {
    pid = spawnDetached(command[0]!, command.slice(1), qemuOutput, handed.fds);
  } finally {
    closeAll(handed.fds);
  }
  options.timings.mark("qemu spawn");
  try {
    const qmp = await connectQmpWhileAlive(pid, paths.qmpSocket, qemuOutput, options.signal);
    options.timings.mark("qmp");
    return { pid, qmp, helperPids, displayBusPid };
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

async function connectQmpWhileAlive(pid: number, socket: string, qemuOutput: string, signal: AbortSignal): Promise<QmpClient> {
  const deadline = Date.now() + QMP_APPEAR_TIMEOUT_MS;
  for (;;) {
    if (signal.aborted) throw whyStartCancelled(signal);
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
