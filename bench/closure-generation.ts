import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

// A generation built by the real Nix (as root) whose closure has the size of a NixOS system's: it depends on
// `closurePaths` store paths, each a directory imported by builtins.path at evaluation time, so that no build
// runs but the generation's own. There is no nixpkgs here; the generation is a builtins.derivation run by the
// static busybox. With `bootable`, it is a generation of the test guest that clan-vmd boots: kernel and initrd
// link to the prebuilt guest outside the store (they add nothing to the closure) and vm.json asks for the store
// share, as nix/lib's vmSpec does. Its closure is then the generation plus the `closurePaths` dependencies.

export interface BootableParts {
  kernel: string;
  initrd: string;
  kernelParams: string;
  vmJson: Record<string, unknown>;
}

/** Builds the generation in `root` (sources and the expression go there) and returns its store path. */
export async function buildClosureGeneration(root: string, name: string, closurePaths: number, bootable?: BootableParts): Promise<string> {
  const sources = join(root, "sources");
  for (let i = 0; i < closurePaths; i++) {
    await mkdir(join(sources, `dep-${i}`), { recursive: true });
    await writeFile(join(sources, `dep-${i}`, "content"), `dependency ${i} of ${name}\n`);
  }
  const expression = join(root, "generation.nix");
  // The boot parts reach the builder as environment variables, never as part of its script.
  await writeFile(
    expression,
    `{ name, sources, count, kernel ? "", initrd ? "", kernelParams ? "", vmJson ? "" }:
let
  dependency = i: builtins.path { path = /. + "\${sources}/dep-\${toString i}"; name = "\${name}-dep-\${toString i}"; };
in builtins.derivation {
  inherit name kernel initrd kernelParams vmJson;
  system = "x86_64-linux";
  builder = "/bin/busybox";
  dependencies = builtins.concatStringsSep "\\n" (builtins.genList dependency count);
  passAsFile = [ "dependencies" ];
  args = [ "sh" "-c" ''
    mkdir $out && cp $dependenciesPath $out/dependencies
    if [ -n "$kernel" ]; then
      ln -s "$kernel" $out/kernel && ln -s "$initrd" $out/initrd
      echo "$kernelParams" > $out/kernel-params && echo "$vmJson" > $out/vm.json
    fi
  '' ];
}
`,
  );
  const boot = bootable
    ? ["--argstr", "kernel", bootable.kernel, "--argstr", "initrd", bootable.initrd, "--argstr", "kernelParams", bootable.kernelParams,
        "--argstr", "vmJson", JSON.stringify(bootable.vmJson)]
    : [];
  const result = await execa(
    "nix-build",
    ["--no-out-link", "--option", "build-users-group", "", "--option", "sandbox-paths", "/bin/busybox",
      "--argstr", "name", name, "--argstr", "sources", sources, "--arg", "count", String(closurePaths), ...boot, expression],
    { reject: false },
  );
  if (result.exitCode !== 0) throw new Error(`nix-build failed: ${result.stderr}`);
  return result.stdout.trim();
}
