import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The test guest built by scripts/build-test-guest.sh (see test/guest/init.sh for what it does), and
// generation directories that boot it, shaped like the ones Nix produces.

const CACHE_DIR = fileURLToPath(new URL("../../.cache/test-guest/", import.meta.url));

export interface TestGuestPaths {
  kernel: string;
  initrd: string;
}

export function testGuestPaths(): TestGuestPaths {
  const paths = { kernel: join(CACHE_DIR, "kernel"), initrd: join(CACHE_DIR, "initrd") };
  for (const path of Object.values(paths)) {
    if (!existsSync(path)) throw new Error(`test guest is not built (${path} is missing): run scripts/build-test-guest.sh`);
  }
  return paths;
}

export interface GenerationOptions {
  /** Reported back by the guest in its ready message; goes onto the kernel command line. */
  generation: string;
  /** The guest boots but never sends ready: for failed health checks. */
  neverReady?: boolean;
  /** Merged over the defaults into vm.json. */
  vm?: Record<string, unknown>;
}

const VM_DEFAULTS = { memoryMiB: 256, cores: 1 };

/**
 * Creates `dir` as a generation of the test guest. kernel and initrd are symlinks, as in a NixOS toplevel.
 * panic=-1 reboots at once on a kernel panic, and clan-vmd runs QEMU with -no-reboot, so a panicking guest
 * ends its QEMU (a failure with a cause) rather than hanging until the ready timeout. Without -no-reboot it
 * would loop: pass it when booting these by hand.
 */
export async function makeGeneration(dir: string, opts: GenerationOptions): Promise<string> {
  // The guest interpolates the generation into its JSON ready line unescaped.
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(opts.generation)) {
    throw new Error(`generation ${JSON.stringify(opts.generation)} must be 1–128 letters, digits, '.', '_' or '-'`);
  }
  const { kernel, initrd } = testGuestPaths();
  await mkdir(dir, { recursive: true });
  await symlink(kernel, join(dir, "kernel"));
  await symlink(initrd, join(dir, "initrd"));
  const params = ["console=ttyS0", "panic=-1", "quiet", `clan.generation=${opts.generation}`];
  if (opts.neverReady) params.push("clan.never-ready=1");
  await writeFile(join(dir, "kernel-params"), `${params.join(" ")}\n`);
  await writeFile(join(dir, "vm.json"), `${JSON.stringify({ ...VM_DEFAULTS, ...opts.vm }, null, 2)}\n`);
  return dir;
}
