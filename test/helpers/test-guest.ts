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
  /** initrd plus waypipe, socat and a Wayland demo client, with their ≈ 150 MB of libraries. */
  waypipeInitrd: string;
}

export function testGuestPaths(): TestGuestPaths {
  const paths = { kernel: join(CACHE_DIR, "kernel"), initrd: join(CACHE_DIR, "initrd"), waypipeInitrd: join(CACHE_DIR, "initrd-waypipe") };
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
  /**
   * The guest forwards a window (weston-simple-touch) with waypipe over its org.clan.waypipe.0 port, which
   * exists when the VM's display is "waypipe". Boots the larger initrd, which needs more memory.
   */
  waypipeDemo?: boolean;
  /** With waypipeDemo: how many demo apps the guest shows at once, each on the first free port (default 1). */
  waypipeApps?: number;
  /** With waypipeDemo: first lists, on the console, the globals wayland-info sees through each waypipe port. */
  waypipeProbe?: boolean;
  /** With waypipeDemo: one port carries a hostile stream, a session header and then garbage, again and again. */
  waypipeFlood?: boolean;
  /** The guest attacks the control port: a 5,000-deep JSON line, a huge line, invalid UTF-8 and a flood. */
  hostileControl?: boolean;
  /** The guest writes OSC 52 (clipboard), title-setting and clear-screen escapes to its console. */
  hostileConsole?: boolean;
  /** Merged over the defaults into vm.json. */
  vm?: Record<string, unknown>;
}

const VM_DEFAULTS = { memoryMiB: 256, cores: 1 };
// The waypipe initrd is ≈ 160 MB, held twice while the kernel unpacks it.
const WAYPIPE_DEMO_MEMORY_MIB = 512;

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
  const { kernel, initrd, waypipeInitrd } = testGuestPaths();
  await mkdir(dir, { recursive: true });
  await symlink(kernel, join(dir, "kernel"));
  await symlink(opts.waypipeDemo ? waypipeInitrd : initrd, join(dir, "initrd"));
  const params = ["console=ttyS0", "panic=-1", "quiet", `clan.generation=${opts.generation}`];
  if (opts.neverReady) params.push("clan.never-ready=1");
  if (opts.waypipeDemo) params.push("clan.waypipe-demo=1");
  if (opts.waypipeApps !== undefined) {
    if (!Number.isInteger(opts.waypipeApps) || opts.waypipeApps < 1 || opts.waypipeApps > 9) throw new Error(`waypipeApps ${opts.waypipeApps} must be 1–9`);
    params.push(`clan.waypipe-apps=${opts.waypipeApps}`);
  }
  if (opts.waypipeProbe) params.push("clan.waypipe-probe=1");
  if (opts.waypipeFlood) params.push("clan.waypipe-flood=1");
  if (opts.hostileControl) params.push("clan.hostile-control=1");
  if (opts.hostileConsole) params.push("clan.hostile-console=1");
  await writeFile(join(dir, "kernel-params"), `${params.join(" ")}\n`);
  const defaults = opts.waypipeDemo ? { ...VM_DEFAULTS, memoryMiB: WAYPIPE_DEMO_MEMORY_MIB } : VM_DEFAULTS;
  await writeFile(join(dir, "vm.json"), `${JSON.stringify({ ...defaults, ...opts.vm }, null, 2)}\n`);
  return dir;
}
