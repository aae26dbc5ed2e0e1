import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { ClanError } from "../shared/errors.js";
import { rootsIdentity, type ClosureCache } from "./closure-cache.js";
import type { StartTimings } from "./start-timings.js";
import { HOLDER_READY_LINE, prepareStoreView, storeRoots, storeViewHolderArguments } from "./store-view.js";
import { asIdentity, type VmIdentity } from "./vm-identity.js";

// A generation's store view is built once and reused by its later starts (docs/generation.md, "The store share").
// Laying out and binding a NixOS-sized closure (1,500 paths) costs 0.3–0.9 s of CPU on a loaded 2-core machine,
// which the boot cannot hide (docs/benchmarks.md). So the view lives in the mount namespace of a holder: a process
// that mounted it once and then only waits. Each start's virtiofsd joins that namespace and takes a copy of it for
// itself, which costs the kernel a copy of the mount table and nothing else.
// A view is reused only for the same roots — the same store paths, each still the same file (inode and change time,
// as in closure-cache.ts): a valid store path's closure never changes, and a root deleted and registered anew asks
// again. It is reused only by the same owner (the uid virtiofsd runs as). Each network keeps the view of its latest
// start; a view no network keeps is ended at once, and every holder ends with clan-vmd, crash included, since it
// waits for the end of a pipe clan-vmd holds.

/** Preparing a view is a closure query, a layout and a few thousand binds: minutes would mean something is wrong. */
const HOLDER_READY_TIMEOUT_MS = 60_000;
const HOLDER_ERROR_CHARS = 2000;

interface PreparedView {
  key: string;
  /** The roots' identity when the view was prepared; a view whose roots are no longer these files is stale. */
  identity: string;
  holder: ChildProcess | undefined;
  ready: Promise<void>;
  exited: boolean;
  /** Networks whose latest start used this view. */
  users: Set<string>;
}

export interface StoreViewRequest {
  network: string;
  generationDir: string;
  /** Who virtiofsd runs as, and so the holder too: its namespace belongs to that uid. */
  owner: VmIdentity | undefined;
  /** An absent path where the view's template may be laid out; it is removed once the holder has mounted it. */
  templateDir: string;
  timings: StartTimings;
}

export class PreparedStoreViews {
  private readonly views = new Map<string, PreparedView>();
  private readonly latest = new Map<string, PreparedView>();

  constructor(private readonly closureCache: ClosureCache) {}

  /** The pid of a holder whose mount namespace has the generation's view at VIEW_MOUNTPOINT, prepared now if need be. */
  async holderFor(request: StoreViewRequest): Promise<number> {
    const roots = await storeRoots(request.generationDir);
    const identity = await rootsIdentity(roots);
    const key = [request.owner?.uid ?? "clan-vmd", ...roots].join("\n");
    let view = this.views.get(key);
    if (view && (view.exited || identity === undefined || view.identity !== identity)) {
      this.end(view);
      view = undefined;
    }
    if (view) request.timings.mark("view reused");
    else view = this.prepare(key, identity, request);
    await view.ready;
    if (view.exited) throw new ClanError("QemuFailed", `the holder of the store view of ${request.generationDir} exited`);
    this.keep(request.network, view);
    return view.holder!.pid!;
  }

  /** Ends every holder: clan-vmd is exiting (running virtiofsd keep their own copies of the views). */
  endAll(): void {
    for (const view of [...this.views.values()]) this.end(view);
  }

  private prepare(key: string, identity: string | undefined, request: StoreViewRequest): PreparedView {
    const view: PreparedView = {
      key,
      // A root that cannot be read gets a view no later start matches: it is prepared anew each time.
      identity: identity ?? `unverified ${Math.random()}`,
      holder: undefined,
      ready: Promise.resolve(),
      exited: false,
      users: new Set(),
    };
    view.ready = this.mount(view, request);
    this.views.set(key, view);
    view.ready.catch(() => this.end(view));
    return view;
  }

  private async mount(view: PreparedView, request: StoreViewRequest): Promise<void> {
    const closure = await this.closureCache.closureOf(request.generationDir);
    request.timings.mark("closure");
    let fstab: string;
    try {
      fstab = prepareStoreView(closure, request.templateDir);
    } catch (error) {
      await rm(request.templateDir, { recursive: true, force: true });
      await this.closureCache.forget(request.generationDir);
      throw error;
    }
    request.timings.mark("view layout");
    try {
      await startHolder(view, fstab, request);
    } catch (error) {
      await this.closureCache.forget(request.generationDir);
      throw error;
    } finally {
      await rm(request.templateDir, { recursive: true, force: true });
      await rm(fstab, { force: true });
    }
    request.timings.mark("view mounts");
  }

  /** The network's latest start used `view`; the view it used before is ended when no network keeps it. */
  private keep(network: string, view: PreparedView): void {
    const previous = this.latest.get(network);
    view.users.add(network);
    this.latest.set(network, view);
    if (!previous || previous === view) return;
    previous.users.delete(network);
    if (previous.users.size === 0) this.end(previous);
  }

  private end(view: PreparedView): void {
    if (this.views.get(view.key) === view) this.views.delete(view.key);
    for (const network of view.users) if (this.latest.get(network) === view) this.latest.delete(network);
    view.users.clear();
    view.exited = true;
    // A holder not started yet is ended by startHolder, which sees `exited`.
    view.holder?.kill("SIGKILL");
  }
}

/**
 * Starts the view's holder as `request.owner`, in the template as its working directory with the fstab as fd 3,
 * and waits until it says its namespace has the view mounted. Its standard input is a pipe clan-vmd keeps open.
 */
async function startHolder(view: PreparedView, fstab: string, request: StoreViewRequest): Promise<void> {
  const fstabFd = openSync(fstab, constants.O_RDONLY);
  let holder: ChildProcess;
  try {
    const [binary, args] = asIdentity(request.owner, "unshare", storeViewHolderArguments("/proc/self/fd/3"));
    holder = spawn(binary, args, { cwd: request.templateDir, stdio: ["pipe", "pipe", "pipe", fstabFd] });
  } finally {
    closeSync(fstabFd);
  }
  view.holder = holder;
  holder.unref();
  for (const stream of [holder.stdin, holder.stdout, holder.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  if (view.exited) holder.kill("SIGKILL");
  let output = "";
  let errors = "";
  holder.stderr!.on("data", (chunk: Buffer) => {
    if (errors.length < HOLDER_ERROR_CHARS) errors += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      holder.kill("SIGKILL");
      reject(new ClanError("QemuFailed", `the store view of ${request.generationDir} was not mounted within ${HOLDER_READY_TIMEOUT_MS} ms`));
    }, HOLDER_READY_TIMEOUT_MS);
    holder.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.startsWith(`${HOLDER_READY_LINE}\n`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    holder.on("error", (error) => {
      clearTimeout(timer);
      reject(new ClanError("QemuFailed", `cannot mount the store view of ${request.generationDir}: ${error.message}`));
    });
    holder.on("exit", () => {
      view.exited = true;
    });
    // After HOLDER_READY_LINE this settles nothing: the promise is already resolved. "close" comes after the last of
    // its error output.
    holder.on("close", () => {
      clearTimeout(timer);
      reject(new ClanError("QemuFailed", `cannot mount the store view of ${request.generationDir}: ${errors.trim().slice(0, HOLDER_ERROR_CHARS) || "its namespace's holder exited"}`));
    });
  });
}
