import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { testGuestPaths } from "./test-guest.js";

// A network's flake as a local git repository, for rebuild tests with the real Nix: there is no nixpkgs on
// these machines, so the generation is a builtins.derivation that copies the test guest's kernel and initrd
// and writes kernel-params and vm.json. The builder is the static busybox, mapped into Nix's sandbox.

/** Nix settings for daemons that run these builds as root without a nixbld group. */
export const TEST_NIX_CONFIG = "build-users-group =\nsandbox-paths = /bin/busybox\nexperimental-features = nix-command flakes";

export interface NetworkFlake {
  dir: string;
  url: string;
  /**
   * Commits a version whose guest reports `marker` as its generation, or never reports ready at all, or whose build
   * fails, saying `marker` on its stderr; `flake` replaces the flake.nix, `files` adds files (or, given null,
   * removes them), as a hostile network would; `storeShare` has vm.json ask for the Nix store share, as nix/lib's
   * vmSpec does.
   */
  commit(marker: string, options?: { neverReady?: boolean; buildFails?: boolean; storeShare?: boolean; flake?: string; files?: Record<string, string | null> }): Promise<string>;
}

export async function createNetworkFlake(): Promise<NetworkFlake> {
  const dir = await mkdtemp(join(tmpdir(), "clan-flake-"));
  const { kernel, initrd } = testGuestPaths();
  await copyFile(kernel, join(dir, "kernel"));
  await copyFile(initrd, join(dir, "initrd"));
  const git = (...args: string[]) => execa("git", ["-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args]);
  await git("init", "-q", "-b", "main");
  await mkdir(join(dir, "generation"), { recursive: true });
  return {
    dir,
    url: `git+file://${dir}`,
    async commit(marker, options = {}) {
      const params = `console=ttyS0 panic=-1 quiet clan.generation=${marker}${options.neverReady ? " clan.never-ready=1" : ""}`;
      const shares = options.storeShare ? [{ tag: "nix-store", source: "/nix/store", readOnly: true }] : [];
      const vm = JSON.stringify({ memoryMiB: 256, stateDiskMiB: 0, readyTimeoutSeconds: options.neverReady ? 4 : 60, shares });
      await writeFile(join(dir, "generation", "kernel-params"), `${params}\n`);
      await writeFile(join(dir, "generation", "vm.json"), `${vm}\n`);
      const flake = options.flake ?? FLAKE;
      await writeFile(join(dir, "flake.nix"), options.buildFails ? flake.replace("mkdir $out", `echo "the build broke: ${marker}" >&2; exit 3`) : flake);
      for (const [file, text] of Object.entries(options.files ?? {})) {
        if (text === null) await rm(join(dir, file), { force: true });
        else await writeFile(join(dir, file), text);
      }
      await git("add", "-A");
      await git("commit", "-q", "-m", marker);
      return (await git("rev-parse", "HEAD")).stdout.trim();
    },
  };
}

/** The flake.nix `commit` writes: `outputs` builds the generation from the committed files. */
export const FLAKE = `{
  outputs = { self }: {
    packages.x86_64-linux.default = builtins.derivation {
      name = "clan-network-generation";
      system = "x86_64-linux";
      builder = "/bin/busybox";
      args = [ "sh" "-c" ''
        mkdir $out
        cp \${./kernel} $out/kernel
        cp \${./initrd} $out/initrd
        cp \${./generation/kernel-params} $out/kernel-params
        cp \${./generation/vm.json} $out/vm.json
        echo built generation
      '' ];
    };
  };
}
`;
