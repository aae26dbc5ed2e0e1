import { lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import { basename, join } from "node:path";
import { execa } from "execa";
import { ClanError } from "../shared/errors.js";

// The store a VM sees is its own generation's closure, not the host's /nix/store (other networks' generations,
// the host's own files). The share's source is a per-VM view: a directory in the VM's runtime directory holding
// one empty mountpoint per closure path, onto which — inside virtiofsd's private user and mount namespace, so
// the host never sees these mounts — each closure path is bind-mounted read-only. A path outside the closure has
// no name in the view: the guest cannot see it, let alone read it.

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

/** Every store path that the store paths `roots` need, themselves included. */
export async function closureOfRoots(roots: string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  const result = await execa("nix-store", ["--query", "--requisites", ...roots], {
    reject: false,
    timeout: CLOSURE_QUERY_TIMEOUT_MS,
    maxBuffer: MAX_CLOSURE_PATHS * 256,
  });
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
 * Where virtiofsd's namespace mounts the view: on a private tmpfs over /run, a directory that exists on every
 * host. The view itself reaches that namespace as a descriptor, so neither its path nor its parents need be
 * reachable by the uid virtiofsd runs as (docs/generation.md, "Who runs QEMU and virtiofsd").
 */
export const VIEW_MOUNTPOINT = "/run/clan-store-view";

/**
 * Fills the empty directory `viewDir` with a mountpoint per closure path (a directory or an empty file; a store
 * path that is a symlink is copied as one) and writes the fstab of virtiofsd's namespace: a private tmpfs over
 * /run, the view itself — the namespace's working directory, "." — bound read-only at VIEW_MOUNTPOINT, and each
 * closure path bound read-only onto its mountpoint there. Returns the fstab's path. Nothing is mounted here: that
 * happens in virtiofsd's namespace. The fstab names only store paths, which every user may list: it is readable
 * by all.
 * Synchronous on purpose: two system calls per path, with no promise and no trip through libuv's thread pool
 * each, took the layout of a 1,501-path closure from 106 to 66 ms (median, loaded machine; docs/benchmarks.md).
 */
export function prepareStoreView(closure: string[], viewDir: string): string {
  mkdirSync(viewDir, { mode: 0o755 });
  // The tmpfs also takes the place of /run/virtiofsd, where virtiofsd insists on a lock file only root could write.
  let fstabText = `tmpfs /run tmpfs mode=0755 0 0\n. ${VIEW_MOUNTPOINT} none bind,ro,X-mount.mkdir 0 0\n`;
  for (const path of closure) {
    const name = basename(path);
    const target = join(viewDir, name);
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
  const fstab = `${viewDir}.fstab`;
  writeFileSync(fstab, fstabText, { mode: 0o644 });
  return fstab;
}

/** fstab separates fields by blanks; libmount reads these octal escapes back. */
function fstabField(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/**
 * `unshare` arguments that run virtiofsd serving the view, in a user and mount namespace of its own where every
 * entry of prepareStoreView's fstab is mounted. Run them with the view as the working directory: unshare carries
 * it into the new namespace, where the fstab binds it as ".". libmount mounts the whole fstab in one process (a
 * few thousand binds take well under a second), and a start spawns no process per mount: on a loaded machine each
 * costs tens of milliseconds. `fstab` may be a /proc/self/fd/N. The paths are positional parameters of the
 * script, never part of its text.
 */
export function storeViewUnshareArguments(virtiofsd: string, fstab: string, socket: string): string[] {
  const script = `mount --no-canonicalize --all --fstab "$1" && exec "$2" --socket-path="$3" -o source=${VIEW_MOUNTPOINT},cache=auto`;
  return ["--user", "--map-root-user", "--mount", "--", "sh", "-c", script, "sh", fstab, virtiofsd, socket];
}
