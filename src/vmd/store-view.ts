import { lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import { basename, join } from "node:path";
import { execa } from "execa";
import { ClanError } from "../shared/errors.js";
import type { BackgroundWork } from "./background-priority.js";

// The store a VM sees is its own generation's closure, not the host's /nix/store (other networks' generations,
// the host's own files). The share's source is a view: a tmpfs holding one mountpoint per closure path, onto which
// each closure path is bind-mounted read-only, all inside a private user and mount namespace that a holder process
// keeps (prepared-store-views.ts), so the host never sees these mounts and a generation's later starts reuse them.
// A path outside the closure has no name in the view: the guest cannot see it, let alone read it.

const NIX_STORE = "/nix/store";

/** A top-level store path as nix-store prints it: a base-32 hash, a dash and a name of Nix's alphabet. */
const STORE_PATH = /^\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+\-._?=]+$/;
/** A large NixOS desktop closure has a few thousand paths; far beyond that something is wrong. */
const MAX_CLOSURE_PATHS = 20_000;
/** A NixOS toplevel has a few dozen entries; a generation outside the store is read for its links into it. */
const MAX_GENERATION_ENTRIES = 1024;
const CLOSURE_QUERY_TIMEOUT_MS = 60_000;

/** The share that vm.json asks for to mount the store: clan-vmd serves the closure of the generation through it. */
export function isStoreShare(share: { source: string; readOnly: boolean }): boolean {
  return share.readOnly && share.source === NIX_STORE;
}

/** The top-level store path that contains `path`, if it lies in the store. */
function enclosingStorePath(path: string): string | undefined {
  const [, top] = /^(\/nix\/store\/[^/]+)(\/|$)/.exec(path) ?? [];
  return top !== undefined && STORE_PATH.test(top) ? top : undefined;
}

/**
 * What the closure is computed from. A generation in the store (every one Nix builds) is its own root. One outside
 * it — a test's directory, a profile entry someone made by hand — has no closure of its own: its roots are the
 * store paths its top-level links (kernel, initrd, a toplevel …) lead into. With none, the VM's store is empty.
 */
export async function storeRoots(generationDir: string): Promise<string[]> {
  const own = enclosingStorePath(generationDir);
  if (own) return [own];
  const entries = await readdir(generationDir, { withFileTypes: true });
  if (entries.length > MAX_GENERATION_ENTRIES) {
    throw new ClanError("InvalidGeneration", `generation ${generationDir} has more than ${MAX_GENERATION_ENTRIES} entries`);
  }
  const roots = new Set<string>();
  for (const entry of entries) {
    if (!entry.isSymbolicLink()) continue;
    const target = await realpath(join(generationDir, entry.name)).catch(() => undefined);
    const root = target === undefined ? undefined : enclosingStorePath(target);
    if (root) roots.add(root);
  }
  return [...roots].sort();
}

/** Every store path the generation needs, by `nix-store --query --requisites` of its roots. */
export async function generationClosure(generationDir: string): Promise<string[]> {
  return closureOfRoots(await storeRoots(generationDir));
}

/** Every store path that the store paths `roots` need, themselves included; asked as part of `work` when given. */
export async function closureOfRoots(roots: string[], work?: BackgroundWork): Promise<string[]> {
  if (roots.length === 0) return [];
  const query = execa("nix-store", ["--query", "--requisites", ...roots], {
    reject: false,
    timeout: CLOSURE_QUERY_TIMEOUT_MS,
    maxBuffer: MAX_CLOSURE_PATHS * 256,
  });
  work?.spawned(query.pid);
  const result = await query;
  if (result.failed) {
    if ((result.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      throw new ClanError("QemuFailed", `cannot compute the store closure of ${roots.join(" ")}: nix-store is not on clan-vmd's PATH`);
    }
    const reason = result.timedOut
      ? `no answer within ${CLOSURE_QUERY_TIMEOUT_MS} ms`
      : result.isMaxBuffer
        ? `it has more than ${MAX_CLOSURE_PATHS} paths`
        : nixError(result.stderr) || `exit code ${result.exitCode}`;
    throw new ClanError("InvalidGeneration", `cannot compute the store closure of ${roots.join(" ")}: ${reason}`);
  }
  const paths = result.stdout.split("\n").filter((line) => line !== "");
  if (paths.length > MAX_CLOSURE_PATHS) {
    throw new ClanError("InvalidGeneration", `the store closure of ${roots.join(" ")} has ${paths.length} paths, more than ${MAX_CLOSURE_PATHS}`);
  }
  const strange = paths.find((path) => !STORE_PATH.test(path));
  if (strange !== undefined) throw new ClanError("InvalidGeneration", `nix-store named ${JSON.stringify(strange)}, which is not a store path`);
  return paths;
}

/** Nix's "error: …" lines, without the warnings it prints before them. */
function nixError(stderr: string): string {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  const errors = lines.filter((line) => line.startsWith("error:"));
  return (errors.length > 0 ? errors : lines).join("; ");
}

/**
 * Where a prepared view's namespace mounts the view: a tmpfs of its own, on a private tmpfs over /run (a directory
 * that exists on every host). Nothing of it exists outside that namespace.
 */
export const VIEW_MOUNTPOINT = "/run/clan-store-view";

/**
 * Fills the empty directory `templateDir` with a mountpoint per closure path (a directory or an empty file; a store
 * path that is a symlink is copied as one) and writes the fstab that binds each closure path read-only onto its
 * mountpoint under VIEW_MOUNTPOINT. Returns the fstab's path. Nothing is mounted here: the holder's namespace copies
 * the template onto its own tmpfs and mounts the fstab there (storeViewHolderArguments), after which neither file
 * is needed. The fstab names only store paths, which every user may list: it is readable by all.
 * Synchronous on purpose: two system calls per path, with no promise and no trip through libuv's thread pool
 * each, took the layout of a 1,501-path closure from 106 to 66 ms (median, loaded machine; docs/benchmarks.md).
 */
export function prepareStoreView(closure: string[], templateDir: string): string {
  mkdirSync(templateDir, { mode: 0o755 });
  let fstabText = "";
  for (const path of closure) {
    const name = basename(path);
    const target = join(templateDir, name);
    const info = lstatSync(path);
    if (info.isSymbolicLink()) {
      symlinkSync(readlinkSync(path), target);
      continue;
    }
    if (info.isDirectory()) mkdirSync(target);
    else if (info.isFile()) writeFileSync(target, "", { mode: 0o444 });
    else throw new ClanError("InvalidGeneration", `store path ${path} is neither a directory, a file nor a symlink`);
    fstabText += `${fstabField(path)} ${fstabField(`${VIEW_MOUNTPOINT}/${name}`)} none bind,ro 0 0\n`;
  }
  const fstab = `${templateDir}.fstab`;
  writeFileSync(fstab, fstabText, { mode: 0o644 });
  return fstab;
}

/** fstab separates fields by blanks; libmount reads these octal escapes back. */
function fstabField(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/** What a holder prints once its view is mounted. */
export const HOLDER_READY_LINE = "ready";

/**
 * `unshare` arguments for a view's holder: a process that makes a user and mount namespace of its own, mounts the
 * view there once, prints HOLDER_READY_LINE and then only keeps the namespace alive until its standard input
 * closes (clan-vmd ends it, or exits). Run with prepareStoreView's template as the working directory, which unshare
 * carries into the namespace: a private tmpfs goes over /run (with an empty /run/virtiofsd, where virtiofsd wants
 * its lock file), the view gets a tmpfs of its own at VIEW_MOUNTPOINT, the template's entries are copied onto it,
 * libmount binds every closure path read-only onto its mountpoint in one process (`mount --all`: a few thousand
 * binds take well under a second, where a process per mount would take seconds on a loaded machine), and the view
 * is made read-only. `fstab` may be a /proc/self/fd/N; it is a positional parameter, never part of the script.
 */
export function storeViewHolderArguments(fstab: string): string[] {
  const script = [
    "mount -t tmpfs -o mode=0755 tmpfs /run",
    `mkdir /run/virtiofsd ${VIEW_MOUNTPOINT}`,
    `mount -t tmpfs -o mode=0755 tmpfs ${VIEW_MOUNTPOINT}`,
    `cp -R -P ./. ${VIEW_MOUNTPOINT}`,
    'mount --no-canonicalize --all --fstab "$1"',
    `mount -o remount,bind,ro ${VIEW_MOUNTPOINT}`,
    `echo ${HOLDER_READY_LINE}`,
    "exec cat >/dev/null",
  ].join(" && ");
  return ["--user", "--map-root-user", "--mount", "--", "sh", "-c", script, "sh", fstab];
}

/**
 * `nsenter` arguments that run virtiofsd serving the view that the holder `holderPid` keeps mounted. It joins the
 * holder's user and mount namespaces (its uid is the namespace's root there, so it keeps its own credentials), then
 * takes a copy of that mount namespace for itself, where a private tmpfs over /run/virtiofsd keeps its lock file
 * apart from any other virtiofsd of the same view. The holder's mounts are never changed. The paths are positional
 * parameters of the script, never part of its text.
 */
export function storeViewVirtiofsdArguments(holderPid: number, virtiofsd: string, socket: string): string[] {
  const script = `mount -t tmpfs tmpfs /run/virtiofsd && exec "$1" --socket-path="$2" -o source=${VIEW_MOUNTPOINT},cache=auto`;
  return [`--target=${holderPid}`, "--user", "--mount", "--preserve-credentials", "--", "unshare", "--mount", "--", "sh", "-c", script, "sh", virtiofsd, socket];
}
