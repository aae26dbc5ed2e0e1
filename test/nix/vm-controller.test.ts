import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hasBinary, skipReason, stopProcess, waitFor, within } from "../helpers/processes.js";
import { repositoryRoot } from "./nix.js";

// The guest's VM controller (nix/guest/vm-controller.sh) run by the machine's POSIX sh against a fake sysfs and a
// pseudo-terminal that socat holds open in place of the virtio port: the test plays clan-vmd on socat's stdio.

const controller = join(repositoryRoot, "nix/guest/vm-controller.sh");
let root: string;
const children: ResultPromise[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-vm-controller-"));
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stopProcess(child, 500)));
  await rm(root, { recursive: true, force: true });
});

describe("vm-controller.sh is plain POSIX sh", () => {
  it("parses with sh -n", async () => {
    expect((await execa("sh", ["-n", controller], { reject: false })).exitCode).toBe(0);
  });

  it.skipIf(!hasBinary("shellcheck"))(`passes shellcheck${skipReason("shellcheck")}`, async () => {
    const result = await execa("shellcheck", ["-s", "sh", controller], { reject: false });
    expect(result.stdout).toBe("");
  });

  it("refuses an unknown command", async () => {
    const result = await execa("sh", [controller, "reboot"], { reject: false });
    expect([result.exitCode, result.stderr]).toEqual([2, "usage: clan-vm-controller serve|freeze|thaw"]);
  });
});

/** A fake guest: sysfs names two virtio ports, the control port is vport2p2, whose /dev entry is socat's pty. */
async function fakeGuest(kernelParams: string) {
  const portNames = { vport2p1: "org.qemu.guest_agent.0", vport2p2: "org.clan.control.0" };
  for (const [port, name] of Object.entries(portNames)) {
    await mkdir(join(root, "sys/class/virtio-ports", port), { recursive: true });
    await writeFile(join(root, "sys/class/virtio-ports", port, "name"), `${name}\n`);
  }
  await mkdir(join(root, "dev"));
  await writeFile(join(root, "cmdline"), `${kernelParams}\n`);

  const host = execa("socat", [`PTY,link=${join(root, "dev/vport2p2")},rawer`, "STDIO"], { reject: false, buffer: false });
  children.push(host);
  await waitFor("socat's pty", () => access(join(root, "dev/vport2p2")).then(() => true, () => undefined));
  const guest = execa("sh", [controller, "serve"], {
    env: { CLAN_SYSFS: join(root, "sys"), CLAN_DEV: join(root, "dev"), CLAN_CMDLINE: join(root, "cmdline") },
    reject: false,
  });
  children.push(guest);

  const lines = createInterface({ input: host.stdout! })[Symbol.asyncIterator]();
  return {
    nextLine: async () => JSON.parse((await within(lines.next(), 5000, "a control-port line")).value as string) as unknown,
    send: (line: string) => host.stdin!.write(`${line}\n`),
  };
}

describe.skipIf(!hasBinary("socat"))(`vm-controller.sh serve${skipReason("socat")}`, () => {
  it("finds the control port by name, reports ready with the booted generation, and answers pings", async () => {
    const port = await fakeGuest("console=ttyS0 init=/nix/store/x-nixos-system/init clan.generation=0123abcdwxyz quiet");
    expect(await port.nextLine()).toEqual({ type: "ready", generation: "0123abcdwxyz" });
    port.send('{"type":"ping"}');
    expect(await port.nextLine()).toEqual({ type: "pong" });
    port.send('{"type":"shutdown","now":true}');
    port.send(' { "type" : "ping" } ');
    expect(await port.nextLine()).toEqual({ type: "pong" });
  });

  it("reports a generation it cannot put into JSON as it is as unknown", async () => {
    const port = await fakeGuest('clan.generation=abc"},"x":"y quiet');
    expect(await port.nextLine()).toEqual({ type: "ready", generation: "unknown" });
  });
});

describe("vm-controller.sh freeze and thaw (qemu-ga's fsfreeze hook)", () => {
  async function hooks(definitions: Record<string, { failOn?: "freeze" | "thaw" }>) {
    const directory = join(root, "hooks");
    await mkdir(directory);
    for (const [name, { failOn }] of Object.entries(definitions)) {
      const fail = failOn === undefined ? "" : `[ "$1" = ${failOn} ] && exit 1\n`;
      await writeFile(join(directory, name), `#!/bin/sh\necho "${name} $1" >>"${root}/calls"\n${fail}exit 0\n`);
      await chmod(join(directory, name), 0o755);
    }
    await writeFile(join(directory, "README"), "not executable, not a hook\n");
    return directory;
  }

  async function run(action: string, directory: string) {
    const result = await execa("sh", [controller, action], { env: { CLAN_BACKUP_HOOKS: directory }, reject: false });
    const calls = await readFile(join(root, "calls"), "utf8").catch(() => "");
    return { exitCode: result.exitCode, calls: calls.trim().split("\n").filter(Boolean), stderr: result.stderr };
  }

  it("freezes in name order and thaws newest first", async () => {
    const directory = await hooks({ "10-database": {}, "20-syncthing": {} });
    expect(await run("freeze", directory)).toMatchObject({ exitCode: 0, calls: ["10-database freeze", "20-syncthing freeze"] });
    await rm(join(root, "calls"));
    expect(await run("thaw", directory)).toMatchObject({ exitCode: 0, calls: ["20-syncthing thaw", "10-database thaw"] });
  });

  it("fails the freeze when a hook fails, after thawing the hooks that had frozen", async () => {
    const directory = await hooks({ "10-database": {}, "20-mail": {}, "30-broken": { failOn: "freeze" }, "40-never": {} });
    const result = await run("freeze", directory);
    expect(result).toMatchObject({
      exitCode: 1,
      calls: ["10-database freeze", "20-mail freeze", "30-broken freeze", "20-mail thaw", "10-database thaw"],
    });
    expect(result.stderr).toContain(`backup hook ${directory}/30-broken failed to freeze`);
  });

  it("thaws every hook even when one fails to, and then fails", async () => {
    const directory = await hooks({ "10-database": {}, "20-broken": { failOn: "thaw" } });
    expect(await run("thaw", directory)).toMatchObject({ exitCode: 1, calls: ["20-broken thaw", "10-database thaw"] });
  });

  it("has nothing to do without a hooks directory", async () => {
    expect(await run("freeze", join(root, "missing"))).toMatchObject({ exitCode: 0, calls: [] });
  });
});
