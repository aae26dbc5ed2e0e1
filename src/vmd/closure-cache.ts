import { lstat } from "node:fs/promises";
import type { BackgroundWork } from "./background-priority.js";
import { closureOfRoots, storeRoots } from "./store-view.js";

// The closures clan-vmd has already asked nix-store for. Starting nix-store alone costs 80–250 ms on a loaded
// machine, and a network starts the same generation again and again. A valid store path's references never
// change: Nix can only delete the path (garbage collection) and register it anew, which makes its top-level
// entry a new file — another inode, another change time. So an entry holds the identity of each root it was
// computed from, and a root that is no longer the same file asks nix-store again. Nothing outside clan-vmd's
// memory is trusted: no file a guest or a network could write feeds a VM's view.

const MAX_ENTRIES = 64;

interface Entry {
  identity: string;
  closure: string[];
}

export class ClosureCache {
  private readonly entries = new Map<string, Entry>();

  /** The generation's closure (store-view.ts, generationClosure), from nix-store unless its roots are unchanged. */
  async closureOf(generationDir: string, work?: BackgroundWork): Promise<string[]> {
    const roots = await storeRoots(generationDir);
    const key = roots.join("\n");
    const identity = await rootsIdentity(roots);
    const known = this.entries.get(key);
    this.entries.delete(key);
    if (known && identity !== undefined && known.identity === identity) {
      this.entries.set(key, known);
      return known.closure;
    }
    const closure = await closureOfRoots(roots, work);
    // A root that vanished while the query ran gets no entry: its next start asks again.
    const identityAfter = await rootsIdentity(roots);
    if (identityAfter !== undefined && identityAfter === identity) {
      this.entries.set(key, { identity, closure });
      const oldest = this.entries.keys().next().value;
      if (this.entries.size > MAX_ENTRIES && oldest !== undefined) this.entries.delete(oldest);
    }
    return closure;
  }

  /** Drops what is known of the generation's closure, after it failed to serve (a path vanished, say). */
  async forget(generationDir: string): Promise<void> {
    this.entries.delete((await storeRoots(generationDir)).join("\n"));
  }
}

/** Device, inode and change time of each root, to the nanosecond; undefined when one cannot be read. */
export async function rootsIdentity(roots: string[]): Promise<string | undefined> {
  const identities = await Promise.all(
    roots.map(async (root) => {
      const info = await lstat(root, { bigint: true }).catch(() => undefined);
      return info && `${root}:${info.dev}:${info.ino}:${info.ctimeNs}`;
    }),
  );
  return identities.includes(undefined) ? undefined : identities.join("\n");
}
