import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { clanctl } from "../helpers/daemons.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// A backup repository the network's admins may write to is hostile. These tests play that admin with real restic
// and real qemu-img: they put crafted state disks into the repository, made the way clan-sessiond makes its own
// snapshots, and restore them through the real clanctl, clan-sessiond and clan-vmd. A qcow2 that names a host file
// as its backing file or external data file would show that file to the guest — and to the next backup — so the
// restore must be refused and the VM's disk left as it was. The password file's mode is the user's own mistake:
// it is warned about where the user looks.

const needs = ["restic", "qemu-img", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary))(`a hostile backup repository ${skipReason(...needs)}`, () => {
  let tmp: string;
  let stack: SessionStack;
  let notifications: { shown: ShownNotification[]; stop(): void };
  let repository: string;
  let passwordFile: string;
  let stateDisk: string;
  let originalDisk: string;
  let hostSecret: string;
  const secretText = `TOP-SECRET-${randomBytes(8).toString("hex")}`;

  const network = (backup: boolean): ConfigInput => ({
    networks: {
      family: {
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { profile: join(tmp, "generation") },
        ...(backup ? { backup: { repository, password: { file: passwordFile }, keep: { last: 50 } } } : {}),
      },
    },
  });
  const restic = (args: string[], cwd?: string) => execa("restic", ["--repo", repository, "--password-file", passwordFile, ...args], { cwd });
  /** Stores `image` as a snapshot of family, as clan-sessiond stores its own (same host, tag and file name). */
  const plantSnapshot = async (image: string): Promise<string> => {
    const directory = await mkdtemp(join(tmp, "plant-"));
    await execa("cp", ["--sparse=always", image, join(directory, "state.qcow2")]);
    const { stdout } = await restic(["backup", "--json", "--host", "clan-desktop", "--tag", "network:family", "state.qcow2"], directory);
    const summary = stdout.split("\n").map((line) => JSON.parse(line) as { message_type: string; snapshot_id?: string }).find((m) => m.message_type === "summary");
    return summary!.snapshot_id!;
  };
  const restore = (id: string) => clanctl(["restore", "family", id], stack.env);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "clan-hostile-restore-"));
    repository = join(tmp, "repository");
    passwordFile = join(tmp, "password");
    // Its name carries markup, as a crafted header's backing file name may.
    hostSecret = join(tmp, "<i>host-secret");
    await writeFile(hostSecret, `${secretText}\n`, { mode: 0o600 });
    await writeFile(passwordFile, `pw-${randomBytes(9).toString("hex")}\n`, { mode: 0o644 });
    await chmod(passwordFile, 0o644);
    await mkdir(join(tmp, "generation"));
    stack = await startSessionStack({ config: network(false), daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
    // A server that reads markup in bodies, as mako and GNOME Shell do: the names in a crafted header are text.
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!, ["body", "body-markup"]);
    stateDisk = join(stack.root, "state", "family", "state.qcow2");
    await mkdir(join(stack.root, "state", "family"), { recursive: true });
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", stateDisk, "4M"]);
    originalDisk = sha256(await readFile(stateDisk));
    await stack.writeConfig(network(true));
    await stack.session.reloadConfig();
    // A network never backed up is backed up at once; this first snapshot is the honest one.
    await stack.waitForNetwork("family", (s) => s.backupState === "ok", 60_000);
  }, 120_000);

  afterAll(async () => {
    notifications?.stop();
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("a password file other users may read is a warning in the log, the status and clanctl, naming the file and chmod 600", async () => {
    const fix = `chmod 600 ${passwordFile}`;
    const warning = `the backup password file ${passwordFile} is open to other users (mode 0644); make it private: ${fix}`;
    expect((await stack.session.getNetwork("family")).backupWarning).toBe(warning);
    expect(stack.sessiond.output()).toContain(`family: WARNING: ${warning}`);
    const backups = await clanctl(["backups", "family"], stack.env);
    expect(backups.stdout).toContain(`  warning        ${warning}`);
    expect((await clanctl(["status"], stack.env)).stdout).toContain(`warning: family: ${warning}`);
    const backup = await clanctl(["backup", "family"], stack.env);
    expect(backup.exitCode, backup.all).toBe(0);
    expect(backup.stderr).toContain(`warning: ${warning}`);

    await chmod(passwordFile, 0o600);
    await stack.session.reloadConfig();
    await stack.waitForNetwork("family", (s) => s.backupWarning === "");
    expect((await clanctl(["backups", "family"], stack.env)).stdout).not.toContain("warning");
  }, 120_000);

  it("a snapshot whose qcow2 reads a host file as its backing file is refused, and the state disk is unchanged", async () => {
    const crafted = join(tmp, "backing.qcow2");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-b", hostSecret, "-F", "raw", crafted, "4M"]);
    const id = await plantSnapshot(crafted);
    const result = await restore(id.slice(0, 8));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/restore failed at "replace the state disk" \(the previous state disk is kept\): .*state\.qcow2 names a backing file/);
    expect(result.stderr).toContain(JSON.stringify(hostSecret));
    await expectDiskUntouched();
    const refused = notifications.shown.at(-1)!;
    expect(refused).toMatchObject({ summary: "family: restore failed", body: expect.stringContaining("names a backing file") });
    expect(refused.body).toContain("&lt;i&gt;host-secret");
    expect(refused.body).not.toContain("<i>");
  });

  it("a snapshot whose qcow2 keeps its data in an external host file is refused, and the state disk is unchanged", async () => {
    const crafted = join(tmp, "data-file.qcow2");
    const dataFile = join(tmp, "data-file-target");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-o", `data_file=${dataFile},data_file_raw=on`, crafted, "4M"]);
    // The header now points at a file the attacker chose; its contents are the host's, not the guest's.
    await writeFile(dataFile, `${secretText}\n`);
    const id = await plantSnapshot(crafted);
    const result = await restore(id.slice(0, 8));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/restore failed at "replace the state disk" .*keeps its data in an external file/);
    expect(result.stderr).toContain(JSON.stringify(dataFile));
    await expectDiskUntouched();
  });

  it("a snapshot whose state.qcow2 is a raw image (any bytes the guest wrote) is refused, and the state disk is unchanged", async () => {
    const crafted = join(tmp, "raw.img");
    // A raw disk whose first sector a guest could fill with a qcow2 header of its choosing: format is never guessed.
    await execa("qemu-img", ["create", "-q", "-f", "raw", crafted, "4M"]);
    const id = await plantSnapshot(crafted);
    const result = await restore(id.slice(0, 8));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/restore failed at "replace the state disk" .*is not a usable qcow2 image: .*not in qcow2 format/);
    await expectDiskUntouched();
  });

  it("a plain qcow2 from the same repository is restored: the refusals above are about the images, not the path", async () => {
    const [honest] = await stack.session.backups("family");
    const result = await restore(honest!.id.slice(0, 8));
    expect(result.exitCode, result.all).toBe(0);
    expect(sha256(await readFile(stateDisk))).toBe(originalDisk);
    expect((await stat(`${stateDisk}.previous`)).isFile()).toBe(true);
    expect(notifications.shown.at(-1)).toMatchObject({ summary: "family: restored" });
  });

  async function expectDiskUntouched(): Promise<void> {
    expect(sha256(await readFile(stateDisk))).toBe(originalDisk);
    await expect(stat(`${stateDisk}.incoming`)).rejects.toThrow(/ENOENT/);
    const info = JSON.parse((await execa("qemu-img", ["info", "--output=json", stateDisk])).stdout) as Record<string, unknown>;
    expect(info["backing-filename"]).toBeUndefined();
  }
});

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
