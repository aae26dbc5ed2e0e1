import { closeSync, constants, openSync } from "node:fs";
import { chown, mkdir, rename, rmdir, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { ClanError } from "../shared/errors.js";
import type { PreparedStoreViews } from "./prepared-store-views.js";
import type { Generation } from "./generation.js";
import type { StartTimings } from "./start-timings.js";
import { isAlive, readTail, spawnDetached } from "./qemu-process.js";
import { isStoreShare, storeViewVirtiofsdArguments } from "./store-view.js";
import { asIdentity, giveTo, type VmIdentity } from "./vm-identity.js";
import type { VmPaths } from "./vm-paths.js";

// One virtiofsd per share of a generation (docs/generation.md, "shares"). virtiofsd never runs as root: a
// clan-vmd that runs as a user runs it as that user; a root clan-vmd runs it as the owner of the shared
// directory — it can then do nothing to the files that their owner could not — and refuses a writable share
// that root owns (shareDaemonIdentity). Either way virtiofsd runs in a user and mount namespace of its own, where it
// is "root" enough for its own sandbox (it pivots into the share) and where a read-only share is bind-mounted
// read-only over itself; the store share's virtiofsd runs in a copy of its prepared view's namespace instead.

export interface ShareDaemonOptions {
  network: string;
  generation: Generation;
  paths: VmPaths;
  virtiofsdBinary: string;
  storeViews: PreparedStoreViews;
  /** QEMU's identity, which must be able to connect to the socket. */
  identity: VmIdentity | undefined;
  timings: StartTimings;
}

const SOCKET_APPEAR_TIMEOUT_MS = 5000;

export async function startShareDaemons({ network, generation, paths, virtiofsdBinary, storeViews, identity, timings }: ShareDaemonOptions): Promise<number[]> {
  const pids: number[] = [];
  try {
    for (const share of generation.vm.shares) {
      const owner = await shareOwner(generation, share, identity);
      // virtiofsd creates its socket in a directory of its own (it may not write to the VM's), which clan-vmd then
      // moves into place and gives to QEMU's identity.
      const socketDir = `${paths.runtimeDir}/virtiofsd-${share.tag}`;
      await mkdir(socketDir, { mode: 0o700 });
      await giveTo(owner, socketDir);
      // The generation's closure, never the host's whole store (docs/generation.md, "The store share"): virtiofsd
      // joins the namespace where the generation's prepared view is mounted.
      const view = isStoreShare(share) ? await storeViews.lease({ network, generationDir: generation.resolvedPath, owner, timings }) : undefined;
      try {
        // Descriptors, not paths: the identity may not reach clan-vmd's directories (fd 3: the socket's directory).
        const inherited = [openSync(socketDir, constants.O_RDONLY | constants.O_DIRECTORY)];
        try {
          const [binary, args] = view
            ? asIdentity(owner, "nsenter", storeViewVirtiofsdArguments(view.holderPid, virtiofsdBinary, "/proc/self/fd/3/fs.sock"))
            : asIdentity(owner, "unshare", virtiofsdInNamespaces(virtiofsdBinary, share.source, "/proc/self/fd/3/fs.sock", share.readOnly));
          pids.push(spawnDetached(binary, args, `${paths.runtimeDir}/virtiofsd-${share.tag}.out`, inherited));
        } finally {
          for (const descriptor of inherited) closeSync(descriptor);
        }
        // Its socket appears once virtiofsd runs in its own copy of the view's namespace: the holder may end now.
        await waitForSocket(`${socketDir}/fs.sock`, pids.at(-1)!, `${paths.runtimeDir}/virtiofsd-${share.tag}.out`, `virtiofsd for share ${share.tag}`);
      } finally {
        view?.release();
      }
      const socket = paths.shareSocket(share.tag);
      await rename(`${socketDir}/fs.sock`, socket);
      await rmdir(socketDir);
      if (identity) await chown(socket, identity.uid, identity.gid);
      timings.mark(`virtiofsd ${share.tag}`);
    }
    return pids;
  } catch (error) {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    throw error;
  }
}

/**
 * Who serves the share (shareDaemonIdentity), after checking that its source is a directory virtiofsd may serve:
 * a Start and a PrepareStart (start-checks.ts) refuse the same generations, before anything runs.
 */
export async function shareOwner(generation: Generation, share: Generation["vm"]["shares"][number], identity: VmIdentity | undefined): Promise<VmIdentity | undefined> {
  const info = await stat(share.source).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ClanError("InvalidGeneration", `${generation.path}/vm.json: field shares: ${share.source} is not a directory`);
  }
  const owner = shareDaemonIdentity(identity, info, share.readOnly);
  if (owner?.uid === 0) {
    throw new ClanError("InvalidGeneration", `${generation.path}/vm.json: field shares: ${share.source} is owned by root and writable, and virtiofsd never runs as root; share a directory of the user whose files it holds, or share it read-only`);
  }
  return owner;
}

/**
 * Who serves a share for a root clan-vmd: the directory's owner, who may do to its files what the guest then may.
 * A read-only share that root owns (the host's /nix/store) is served as the VM's own identity, which reads what
 * every user may; a writable one would need root, which is refused. Undefined: clan-vmd's own user.
 */
function shareDaemonIdentity(vm: VmIdentity | undefined, source: { uid: number; gid: number }, readOnly: boolean): VmIdentity | undefined {
  if (!vm) return undefined;
  if (source.uid === 0 && readOnly) return vm;
  return { uid: source.uid, gid: source.gid };
}

/**
 * `unshare` arguments that run virtiofsd in a user and mount namespace. QEMU 7.2's virtiofsd has no read-only
 * mode, so a read-only share is bind-mounted read-only over itself there: nothing the guest sends can write
 * through that mount. virtiofsd also insists on a lock file in /run/virtiofsd, which only root may write: a
 * private tmpfs takes its place (or /run's, where that directory does not exist). The paths are positional
 * parameters of the script, never part of its text.
 */
function virtiofsdInNamespaces(virtiofsd: string, source: string, socket: string, readOnly: boolean): string[] {
  const lockDir = "if [ -d /run/virtiofsd ]; then mount -t tmpfs tmpfs /run/virtiofsd; else mount -t tmpfs tmpfs /run; fi";
  const readOnlyMount = readOnly ? ' && mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"' : "";
  const script = `${lockDir}${readOnlyMount} && exec "$2" --socket-path="$3" -o source="$1",cache=auto`;
  return ["--user", "--map-root-user", "--mount", "--", "sh", "-c", script, "sh", source, virtiofsd, socket];
}

async function waitForSocket(path: string, pid: number, outputFile: string, what: string): Promise<void> {
  const deadline = Date.now() + SOCKET_APPEAR_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await stat(path).catch(() => undefined)) return;
    if (!isAlive(pid)) throw new ClanError("QemuFailed", `${what} exited before creating its socket: ${(await readTail(outputFile, 1000)).trim()}`);
    await sleep(5);
  }
  throw new ClanError("QemuFailed", `${what} did not create ${path} within ${SOCKET_APPEAR_TIMEOUT_MS} ms`);
}
