import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../../src/session/generations/checked-source.js";
import { buildGeneration } from "../../../src/session/generations/nix-build.js";
import { TEST_NIX_CONFIG } from "../../helpers/network-flake.js";
import { hasBinary, skipReason } from "../../helpers/processes.js";

// clan-sessiond builds a network's flake where it lies — for a git+file source, the user's (or a network's)
// repository. Nix would write and `git add` a flake.lock there whenever the flake has inputs it had to lock; with
// the real Nix, the check and the build leave the repository untouched; and an input that flake.lock does not lock
// is refused before Nix could fetch it, unless the user allows such inputs.

const needs = ["nix", "git"];
const isRoot = process.getuid?.() === 0;

describe.skipIf(!needs.every(hasBinary) || !hasBinary("busybox") || !isRoot)(`a build writes no flake.lock ${skipReason(...needs, "busybox")}`, () => {
  let work: string;
  let repository: string;
  let dependencyDir: string;
  let dependencyStorePath: string;
  const savedNixConfig = process.env.NIX_CONFIG;

  beforeAll(async () => {
    process.env.NIX_CONFIG = TEST_NIX_CONFIG;
    work = await mkdtemp(join(tmpdir(), "clan-build-lock-"));
    const dependency = join(work, "dependency");
    dependencyDir = dependency;
    await mkdir(dependency);
    await writeFile(join(dependency, "data"), `${process.pid} ${Date.now()}\n`);
    dependencyStorePath = (await execa("nix", ["--extra-experimental-features", "nix-command", "store", "add-path", "--dry-run", "--name", "source", dependency])).stdout.trim();
    repository = join(work, "network");
    await mkdir(repository);
    await writeFile(
      join(repository, "flake.nix"),
      `{ inputs.dependency = { url = "path:${dependency}"; flake = false; };
  outputs = { self, dependency }: {
    packages.x86_64-linux.default = builtins.derivation {
      name = "lockless"; system = "x86_64-linux"; builder = "/bin/busybox";
      args = [ "sh" "-c" "mkdir $out; cp \${dependency}/data $out/data" ];
    };
  }; }
`,
    );
    const git = (...args: string[]) => execa("git", ["-C", repository, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args]);
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("commit", "-q", "-m", "network");
  });

  afterAll(async () => {
    if (savedNixConfig === undefined) delete process.env.NIX_CONFIG;
    else process.env.NIX_CONFIG = savedNixConfig;
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("an input flake.nix declares and flake.lock does not lock is refused by name; nothing is fetched", async () => {
    const flake = `git+file://${repository}`;
    await expect(checkSource(flake, "packages.x86_64-linux.default", [])).rejects.toThrow(
      new RegExp(`dependency \\(path:${dependencyDir}\\) is a file or directory of this computer, .*; it has no hash in flake\\.lock`),
    );
    expect(existsSync(dependencyStorePath)).toBe(false);
    expect(existsSync(join(repository, "flake.lock"))).toBe(false);
  });

  it("allowed, the checked revision builds pinned and the repository stays untouched", async () => {
    const flake = `git+file://${repository}`;
    const source = await checkSource(flake, "packages.x86_64-linux.default", ["local", "unlocked"]);
    const head = (await execa("git", ["-C", repository, "rev-parse", "HEAD"])).stdout.trim();
    expect(source.revision).toBe(head);
    expect(source.installable).toBe(`${flake}?rev=${head}#packages.x86_64-linux.default`);
    const out = await buildGeneration(source.installable, source.inputUrls, { progress: () => undefined, log: () => undefined });
    expect(existsSync(join(out, "data"))).toBe(true);
    expect(existsSync(join(repository, "flake.lock"))).toBe(false);
    expect((await execa("git", ["-C", repository, "status", "--porcelain"])).stdout).toBe("");
  });
  it("a directory source (path:, or a bare absolute path) builds its fetched store copy, pinned by content hash", async () => {
    for (const flake of [`path:${repository}`, repository]) {
      const source = await checkSource(flake, "packages.x86_64-linux.default", ["local", "unlocked"]);
      expect(source.revision).toMatch(/^sha256-/);
      expect(source.installable).toMatch(/^path:\/nix\/store\/[0-9a-z]{32}-source\?narHash=sha256-[^#]+#packages\.x86_64-linux\.default$/);
      const out = await buildGeneration(source.installable, source.inputUrls, { progress: () => undefined, log: () => undefined });
      expect(existsSync(join(out, "data"))).toBe(true);
    }
    expect(existsSync(join(repository, "flake.lock"))).toBe(false);
  });
});
