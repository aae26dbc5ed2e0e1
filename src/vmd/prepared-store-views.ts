import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../shared/errors.js";
import { BackgroundWork } from "./background-priority.js";
import { rootsIdentity, type ClosureCache } from "./closure-cache.js";
import type { StartTimings } from "./start-timings.js";
import { HOLDER_READY_LINE, prepareStoreView, storeRoots, storeViewHolderArguments } from "./store-view.js";
import { asIdentity, type VmIdentity } from "./vm-identity.js";

// A generation's store view is built once and reused by its starts (docs/generation.md, "The store share").
// Laying out and binding a NixOS-sized closure (1,500 paths) costs 0.3–0.9 s of CPU on a loaded 2-core machine,
// which the boot cannot hide (docs/benchmarks.md). So the view lives in the mount namespace of a holder: a process
// that mounted it once and then only waits. Each start's virtiofsd joins that namespace and takes a copy of it for
// itself, which costs the kernel a copy of the mount table and nothing else. A view is prepared by a start that
// finds none, or ahead of the start (PrepareStart: clan-sessiond asks as soon as a generation becomes a network's
// current one), at low priority, so that the generation's first start finds it too.
// A view is reused only for the same roots — the same store paths, each still the same file (inode and change time,
// as in closure-cache.ts): a valid store path's closure never changes, and a root deleted and registered anew asks
// again. It is reused only by the same owner (the uid virtiofsd runs as). Each network keeps one view: that of its
// latest start or preparation, whichever was asked for last; a view no network keeps is ended once no start still
// waits to join it, and every holder ends with clan-vmd, crash included, since it waits for the end of a pipe
// clan-vmd holds.

/** Preparing a view is a closure query, a layout and a few thousand binds: minutes would mean something is wrong. */
const HOLDER_READY_TIMEOUT_MS = 60_000;
const HOLDER_ERROR_CHARS = 2000;

interface PreparedView {
  key: string;
  /** The roots' identity when the view was prepared; a view whose roots are no longer these files is stale. */
  identity: string;
  holder: ChildProcess | undefined;
  ready: Promise<void>;
  /** The holder has the view mounted. */
  settled: boolean;
  exited: boolean;
  /** Networks that keep this view for their next start. */
  users: Set<string>;
  /** Starts that are to join this view and have not yet: it is not ended under them. */
  leases: number;
  /** The preparation's processes, when it runs ahead of a start at low priority. */
  work: BackgroundWork | undefined;
}

export interface StoreViewRequest {
  network: string;
  generationDir: string;
  /** Who virtiofsd runs as, and so the holder too: its namespace belongs to that uid. */
  owner: VmIdentity | undefined;
  /** Where the preparation's steps are marked (a start's own timings). */
  timings: StartTimings;
}

/** A view a start may join until it releases it: its holder is not ended before. */
export interface StoreViewLease {
  holderPid: number;
  release(): void;
}

export class PreparedStoreViews {
  private readonly views = new Map<string, PreparedView>();
  private readonly latest = new Map<string, PreparedView>();

  /** `workRoot`: where templates are laid out (beside clan-vmd's runtime directory: a tmpfs in a desktop session). */
  constructor(
    private readonly closureCache: ClosureCache,
    private readonly workRoot: string,
  ) {}

  /**
   * For a start: a holder whose mount namespace has the generation's view at VIEW_MOUNTPOINT, prepared now if need
   * be. The network keeps that view from now on. Release the lease once virtiofsd has joined the namespace.
   */
  async lease(request: StoreViewRequest): Promise<StoreViewLease> {
    const { view, found } = await this.viewFor(request, "start");
    this.keep(request.network, view);
    view.leases++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      view.leases--;
      // The network kept another view meanwhile (a PrepareStart of its next generation): this one was waiting for us.
      if (view.leases === 0 && (view.users.size === 0 || this.views.get(view.key) !== view)) this.retire(view);
    };
    const wasSettled = view.settled;
    if (!wasSettled) view.work?.hurry();
    try {
      await view.ready;
      if (view.exited) throw new ClanError("QemuFailed", `the holder of the store view of ${request.generationDir} exited`);
    } catch (error) {
      release();
      throw error;
    }
    // A view found still being prepared (by PrepareStart) made this start wait for the rest of its preparation.
    if (found) request.timings.mark(wasSettled ? "view reused" : "view awaited");
    return { holderPid: view.holder!.pid!, release };
  }

  /**
   * Ahead of a start: prepares the generation's view at low priority unless it exists, and has the network keep
   * it in place of the one it kept. Resolves once the view is mounted, and whether it was prepared now.
   */
  async prepareAhead(request: StoreViewRequest): Promise<{ prepared: boolean }> {
    const { view, found } = await this.viewFor(request, "ahead");
    this.keep(request.network, view);
    await view.ready;
    if (view.exited) throw new ClanError("QemuFailed", `the holder of the store view of ${request.generationDir} exited`);
    return { prepared: !found };
  }

  /** The network keeps no view any more (it left the user's config, or its generation has no store share). */
  release(network: string): void {
    const view = this.latest.get(network);
    if (!view) return;
    this.latest.delete(network);
    view.users.delete(network);
    if (view.users.size === 0) this.retire(view);
  }

  /** Ends every holder: clan-vmd is exiting (running virtiofsd keep their own copies of the views). */
  endAll(): void {
    for (const view of [...this.views.values()]) {
      this.retire(view);
      this.kill(view);
    }
  }

  /** The view of the request's generation: the one prepared before when still valid, else one prepared now. */
  private async viewFor(request: StoreViewRequest, why: "start" | "ahead"): Promise<{ view: PreparedView; found: boolean }> {
    const roots = await storeRoots(request.generationDir);
    const identity = await rootsIdentity(roots);
    const key = [request.owner?.uid ?? "clan-vmd", ...roots].join("\n");
    const known = this.views.get(key);
    if (known && !known.exited && identity !== undefined && known.identity === identity) return { view: known, found: true };
    if (known) this.retire(known);
    return { view: this.prepare(key, identity, request, why), found: false };
  }

  private prepare(key: string, identity: string | undefined, request: StoreViewRequest, why: "start" | "ahead"): PreparedView {
    const view: PreparedView = {
      key,
      // A root that cannot be read gets a view no later start matches: it is prepared anew each time.
      identity: identity ?? `unverified ${Math.random()}`,
      holder: undefined,
      ready: Promise.resolve(),
      settled: false,
      exited: false,
      users: new Set(),
      leases: 0,
      work: why === "ahead" ? new BackgroundWork() : undefined,
    };
    view.ready = this.mount(view, request).then(() => {
      view.settled = true;
    });
    this.views.set(key, view);
    view.ready.catch(() => {
      this.retire(view);
      this.kill(view);
    });
    return view;
  }

  private async mount(view: PreparedView, request: StoreViewRequest): Promise<void> {
    const closure = await this.closureCache.closureOf(request.generationDir, view.work);
    request.timings.mark("closure");
    // Outside every VM's runtime directory: a start of the network wipes that, and this may run beside it.
    await mkdir(this.workRoot, { recursive: true, mode: 0o700 });
    const workDir = await mkdtemp(join(this.workRoot, "clan-store-view-"));
    try {
      const templateDir = join(workDir, "template");
      let fstab: string;
      try {
        fstab = prepareStoreView(closure, templateDir);
      } catch (error) {
        await this.closureCache.forget(request.generationDir);
        throw error;
      }
      request.timings.mark("view layout");
      try {
        await startHolder(view, fstab, templateDir, request);
      } catch (error) {
        await this.closureCache.forget(request.generationDir);
        throw error;
      }
      request.timings.mark("view mounts");
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** The network keeps `view` for its next start; the view it kept before is retired when no network keeps it. */
  private keep(network: string, view: PreparedView): void {
    const previous = this.latest.get(network);
    view.users.add(network);
    this.latest.set(network, view);
    if (!previous || previous === view) return;
    previous.users.delete(network);
    if (previous.users.size === 0) this.retire(previous);
  }

  /** No later start finds the view; its holder ends now, or when the last start that is to join it has. */
  private retire(view: PreparedView): void {
    if (this.views.get(view.key) === view) this.views.delete(view.key);
    for (const network of view.users) if (this.latest.get(network) === view) this.latest.delete(network);
    view.users.clear();
    if (view.leases === 0) this.kill(view);
  }

  private kill(view: PreparedView): void {
    view.exited = true;
    // A holder not started yet is ended by startHolder, which sees `exited`.
    view.holder?.kill("SIGKILL");
  }
}

/**
 * Starts the view's holder as `request.owner`, in the template as its working directory with the fstab as fd 3,
 * and waits until it says its namespace has the view mounted. Its standard input is a pipe clan-vmd keeps open.
 */
async function startHolder(view: PreparedView, fstab: string, templateDir: string, request: StoreViewRequest): Promise<void> {
  const fstabFd = openSync(fstab, constants.O_RDONLY);
  let holder: ChildProcess;
  try {
    const [binary, args] = asIdentity(request.owner, "unshare", storeViewHolderArguments("/proc/self/fd/3"));
    holder = spawn(binary, args, { cwd: templateDir, stdio: ["pipe", "pipe", "pipe", fstabFd] });
  } finally {
    closeSync(fstabFd);
  }
  view.holder = holder;
  view.work?.spawned(holder.pid);
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
