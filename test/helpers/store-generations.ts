import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { testGuestPaths } from "./test-guest.js";

// Two networks' generations of the test guest and a secret, built into the real Nix store (Nix 2.8, as root).
// There is no nixpkgs here: every derivation is a builtins.derivation run by the static busybox. Each generation
// asks for the store share, as nix/lib's vmSpec does, and depends on a library of its network (a directory), a
// note (a plain file, from builtins.toFile) and a link (a store path that is itself a symlink), so its closure
// holds every kind of store path. The secret is in neither closure. kernel and initrd link to the prebuilt test
// guest outside the store, so they add nothing to a closure.

const EXPRESSION = `{ run, kernel, initrd }:
let
  busybox = name: script: builtins.derivation {
    inherit name;
    system = "x86_64-linux";
    builder = "/bin/busybox";
    args = [ "sh" "-c" script ];
  };
  library = net: busybox "clan-store-test-library-\${net}-\${run}" "mkdir $out && echo library of \${net} > $out/library.txt";
  note = net: busybox "clan-store-test-note-\${net}-\${run}" "echo note of \${net} > $out";
  link = net: busybox "clan-store-test-link-\${net}-\${run}" "ln -s \${library net}/library.txt $out";
  vmJson = builtins.toJSON {
    memoryMiB = 256;
    stateDiskMiB = 0;
    shares = [ { tag = "nix-store"; source = "/nix/store"; readOnly = true; } ];
  };
  generation = net: busybox "clan-store-test-generation-\${net}-\${run}" ''
    mkdir $out
    ln -s \${kernel} $out/kernel
    ln -s \${initrd} $out/initrd
    echo "console=ttyS0 panic=-1 quiet clan.generation=store-\${net}" > $out/kernel-params
    echo '\${vmJson}' > $out/vm.json
    echo \${library net} \${note net} \${link net} > $out/dependencies
  '';
in {
  generationA = generation "a";
  libraryA = library "a";
  noteA = note "a";
  linkA = link "a";
  generationB = generation "b";
  secret = busybox "clan-store-test-secret-\${run}" "mkdir $out && echo the host keeps this > $out/secret.txt";
}
`;

const ATTRIBUTES = ["generationA", "libraryA", "noteA", "linkA", "generationB", "secret"] as const;
export type StoreGenerations = Record<(typeof ATTRIBUTES)[number], string>;

/** Builds them (unique per `run`, so one run's paths are never another's) and returns their store paths. */
export async function buildStoreGenerations(run: string): Promise<StoreGenerations> {
  const { kernel, initrd } = testGuestPaths();
  const dir = await mkdtemp(join(tmpdir(), "clan-store-generations-"));
  try {
    const file = join(dir, "generations.nix");
    await writeFile(file, EXPRESSION);
    const result = await execa(
      "nix-build",
      [
        "--no-out-link",
        "--option", "build-users-group", "",
        "--option", "sandbox-paths", "/bin/busybox",
        "--argstr", "run", run,
        "--argstr", "kernel", kernel,
        "--argstr", "initrd", initrd,
        ...ATTRIBUTES.flatMap((name) => ["-A", name]),
        file,
      ],
      { reject: false },
    );
    if (result.exitCode !== 0) throw new Error(`nix-build failed: ${result.stderr}`);
    const paths = result.stdout.trim().split("\n");
    if (paths.length !== ATTRIBUTES.length) throw new Error(`nix-build printed ${paths.length} paths: ${result.stdout}`);
    return Object.fromEntries(ATTRIBUTES.map((name, i) => [name, paths[i]!])) as StoreGenerations;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
