import { closeSync, constants, openSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Generation } from "./generation.js";
import { giveTo, type VmIdentity } from "./vm-identity.js";
import type { VmPaths } from "./vm-paths.js";

// QEMU runs as an identity of its own (vm-identity.ts) that may not traverse clan-vmd's directories: a root
// clan-vmd keeps them under /run/user/0, /root or a 0700 temporary directory. So clan-vmd opens what QEMU needs
// and hands over the descriptors; QEMU reaches them as /proc/self/fd/N, which checks permission on the file
// itself and not on its parents. QEMU gets exactly these: the VM's runtime directory (its own, for its sockets
// and pidfile), the kernel and initrd, the console log, the display bus's directory and the state disk — not the
// state directory, where the network's VPN keys live.

const RUNTIME_DIR_FD = 3;

export interface HandedOverFiles {
  /** The VM's paths as QEMU sees them. */
  paths: VmPaths;
  /** The generation with its kernel and initrd as QEMU sees them. */
  generation: Generation;
  /** A file of the runtime directory (the VPN's hosts file) as QEMU sees it. */
  inRuntimeDir: (path: string) => string;
  /** The descriptors for the child's fds 3, 4, …; close them once QEMU is spawned. */
  fds: number[];
}

export async function handOverFiles(paths: VmPaths, generation: Generation, withStateDisk: boolean, identity: VmIdentity | undefined): Promise<HandedOverFiles> {
  // The runtime directory becomes the identity's; the files clan-vmd itself writes there stay root's and 0600.
  await giveTo(identity, paths.runtimeDir);
  await chmod(paths.runtimeDir, 0o700);
  const fds: number[] = [];
  const childPath = (fd: number) => `/proc/self/fd/${fd}`;
  const handOver = (fd: number) => {
    fds.push(fd);
    return childPath(RUNTIME_DIR_FD + fds.length - 1);
  };
  try {
    const runtimeDir = handOver(openSync(paths.runtimeDir, constants.O_RDONLY | constants.O_DIRECTORY));
    const inRuntimeDir = (path: string) => join(runtimeDir, relative(paths.runtimeDir, path));
    const kernel = handOver(openSync(generation.kernel, "r"));
    const initrd = handOver(openSync(generation.initrd, "r"));
    const consoleFd = openSync(paths.consoleLog, "a", 0o600);
    await giveTo(identity, paths.consoleLog);
    const consoleLog = handOver(consoleFd);
    // The display bus's directory is clan-vmd's, outside the runtime directory (vm-paths.ts): QEMU gets it as a
    // descriptor like the rest, and may enter it (display-bus.ts) but not change what is in it.
    const displayBusSocket = generation.vm.display === "dbus" ? join(handOver(openSync(paths.displayBusDir, constants.O_RDONLY | constants.O_DIRECTORY)), "bus") : paths.displayBusSocket;
    let stateDisk = paths.stateDisk;
    if (withStateDisk) {
      await giveTo(identity, paths.stateDisk);
      await chmod(paths.stateDisk, 0o600);
      stateDisk = handOver(openSync(paths.stateDisk, "r+"));
    }
    return {
      paths: {
        ...paths,
        runtimeDir,
        qmpSocket: inRuntimeDir(paths.qmpSocket),
        guestAgentSocket: inRuntimeDir(paths.guestAgentSocket),
        controlSocket: inRuntimeDir(paths.controlSocket),
        spiceSocket: inRuntimeDir(paths.spiceSocket),
        waypipeSocket: (index) => inRuntimeDir(paths.waypipeSocket(index)),
        displayBusSocket,
        record: inRuntimeDir(paths.record),
        shareSocket: (tag) => inRuntimeDir(paths.shareSocket(tag)),
        consoleLog,
        stateDisk,
      },
      generation: { ...generation, kernel, initrd },
      inRuntimeDir,
      fds,
    };
  } catch (error) {
    closeAll(fds);
    throw error;
  }
}

export function closeAll(fds: number[]): void {
  for (const fd of fds) closeSync(fd);
}
