import { mkdir, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { GuestMessage, CONTROL_MAX_LINE } from "../../src/vmd/control-port.js";
import { loadGeneration } from "../../src/vmd/generation.js";
import { JsonLineConnection } from "../../src/vmd/json-lines.js";
import { qemuArguments, type Accelerator } from "../../src/vmd/qemu-command.js";
import { vmPaths, type VmPaths } from "../../src/vmd/vm-paths.js";

// Boots a generation with QEMU directly — clan-vmd's exact command line (qemuArguments), none of its
// supervision — and waits for the guest's ready line on the control port. For tests of guest-side protocols;
// spawnUntilReady also times the cold-start benchmark's plain QEMU command.

export interface BareVm {
  paths: VmPaths;
  /** Milliseconds from spawning QEMU until the ready line arrived. */
  readyAfterMs: number;
  control: JsonLineConnection;
  stop(): Promise<void>;
}

export interface BareBootOptions {
  generationDir: string;
  accelerator: Accelerator;
  /** Holds the run/ and state/ directories, as clan-vmd's --runtime-dir and --state-dir would. */
  root: string;
  network?: string;
  qemuBinary?: string;
  readyTimeoutMs?: number;
}

export async function bootBareQemu(options: BareBootOptions): Promise<BareVm> {
  const network = options.network ?? "bare";
  const generation = await loadGeneration(options.generationDir);
  const paths = vmPaths({ runtimeRoot: `${options.root}/run`, stateRoot: `${options.root}/state` }, network);
  await rm(paths.runtimeDir, { recursive: true, force: true });
  await mkdir(paths.runtimeDir, { recursive: true });
  await mkdir(paths.stateDir, { recursive: true });
  const withStateDisk = generation.vm.stateDiskMiB > 0;
  if (withStateDisk && !(await stat(paths.stateDisk).catch(() => undefined))) {
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", paths.stateDisk, `${generation.vm.stateDiskMiB}M`]);
  }
  const args = qemuArguments({ network, generation, paths, accelerator: options.accelerator, withStateDisk });

  const vm = await spawnUntilReady(options.qemuBinary ?? "qemu-system-x86_64", args, paths.controlSocket, options.readyTimeoutMs ?? 60_000).catch(
    async (error: unknown) => {
      await rm(paths.runtimeDir, { recursive: true, force: true });
      throw error;
    },
  );
  return {
    paths,
    readyAfterMs: vm.readyAfterMs,
    control: vm.control,
    stop: async () => {
      await vm.stop();
      await rm(paths.runtimeDir, { recursive: true, force: true });
    },
  };
}

export interface ReadyQemu {
  /** Milliseconds from spawning QEMU until the ready line arrived. */
  readyAfterMs: number;
  control: JsonLineConnection;
  /** Closes the control connection and kills QEMU. */
  stop(): Promise<void>;
}

/** Spawns `binary args` and waits for the guest's ready line on `controlSocket`, which the arguments must serve. */
export async function spawnUntilReady(binary: string, args: string[], controlSocket: string, readyTimeoutMs: number): Promise<ReadyQemu> {
  const spawnedAt = performance.now();
  const qemu = execa(binary, args, { reject: false, stdin: "ignore", all: true });
  const kill = async () => {
    qemu.kill("SIGKILL");
    await qemu;
  };
  try {
    const control = await connectWhileRunning(qemu, controlSocket);
    await readyLine(control, qemu, readyTimeoutMs);
    const readyAfterMs = performance.now() - spawnedAt;
    return {
      readyAfterMs,
      control,
      stop: async () => {
        control.close();
        await kill();
      },
    };
  } catch (error) {
    await kill();
    throw error;
  }
}

function exited(qemu: ResultPromise): boolean {
  return qemu.exitCode !== null || qemu.signalCode !== null;
}

async function connectWhileRunning(qemu: ResultPromise, socket: string): Promise<JsonLineConnection> {
  for (;;) {
    if (exited(qemu)) throw new Error(`QEMU exited before opening ${socket}: ${(await qemu).all}`);
    try {
      return await JsonLineConnection.open(socket, { maxLineBytes: CONTROL_MAX_LINE, timeoutMs: 1000 });
    } catch {
      // QEMU creates the socket a moment after it starts.
      await sleep(10);
    }
  }
}

function readyLine(control: JsonLineConnection, qemu: ResultPromise, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      control.off("message", onMessage);
      control.off("close", onClose);
      outcome();
    };
    const onMessage = (raw: unknown) => {
      if (GuestMessage.safeParse(raw).data?.type === "ready") finish(resolve);
    };
    const onClose = () => finish(() => reject(new Error(`control port closed before ready (QEMU exited: ${exited(qemu)})`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`no ready line within ${timeoutMs} ms`))), timeoutMs);
    control.on("message", onMessage);
    control.on("close", onClose);
  });
}
