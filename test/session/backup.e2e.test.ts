import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import { clanctl, REPO, waitUntil } from "../helpers/daemons.js";
import { inspectExt4Image, makeExt4Disk } from "../helpers/ext4-disk.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// Backups end to end: real restic, real clan-vmd and QEMU running the test guest with its real guest agent, whose
// state disk holds ext4 mounted at /state. Whether the copy was taken while the guest's filesystem was frozen is
// read from the backed-up image itself: ext4 clears its "needs_recovery" flag on disk when it is frozen and sets
// it again on thaw, so a copy taken while frozen lacks the flag, and a copy of the mounted, thawed disk has it.
// No timing is involved: the flag is in the bytes restic stored.

const needs = ["restic", "qemu-system-x86_64", "qemu-img", "dbus-daemon", "mkfs.ext4", "dumpe2fs", "debugfs", "mount"];
const isRoot = process.getuid?.() === 0;
const password = `pw-${randomBytes(9).toString("hex")}`;
const wrongPassword = `wrong-${randomBytes(9).toString("hex")}`;

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`backups ${skipReason(...needs)}${isRoot ? "" : " (needs root for a read-only bind mount)"}`, () => {
  let tmp: string;
  let stack: SessionStack;
  let notifications: { shown: ShownNotification[]; stop(): void };
  let bar: ResultPromise;
  let barOutput = "";
  let stateDisk: string;
  let repository: string;
  let passwordFile: string;
  const published: NetworkStatus[] = [];
  const clanctlOutput: string[] = [];
  /** The logs of clan-sessiond processes the test stopped. */
  const earlierSessiondLogs: string[] = [];
  const guestMountedState = () =>
    waitUntil(async () => (await stack.vms.consoleTail("family", 2048)).includes("mounted the ext4 state disk at /state"), "the guest to mount /state", 15_000);

  /** The config with a backup of family to the test's repository, changed by `backup`; none for null. */
  const network = (backup: Partial<NonNullable<ConfigInput["networks"][string]["backup"]>> | null = {}): ConfigInput => ({
    networks: {
      family: {
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { profile: join(tmp, "generation") },
        ...(backup ? { backup: { repository, password: { file: passwordFile }, keep: { last: 50 }, ...backup } } : {}),
      },
    },
  });
  const run = async (args: string[]) => {
    const result = await clanctl(args, stack.env);
    clanctlOutput.push(result.all ?? "");
    return result;
  };
  const guest = async (script: string) => {
    const result = await stack.vms.guestExec("family", ["/bin/sh", "-c", script], 30);
    expect(result, script).toMatchObject({ exitCode: 0 });
    return result.stdout;
  };
  const restic = (args: string[]) => execa("restic", ["--repo", repository, "--password-file", passwordFile, ...args]);
  const resticRestore = async (id: string) => {
    const dir = await mkdtemp(join(tmp, "restored-"));
    await restic(["restore", id, "--target", dir]);
    return join(dir, "state.qcow2");
  };
  const status = () => stack.session.getNetwork("family");
  /** The tests run commands in the guest, and each of those is a notification too (docs/dbus.md). */
  const lastAboutBackups = () => notifications.shown.filter((n) => n.summary !== "family: a command ran in the guest").at(-1);
  const applyConfig = async (config: ConfigInput) => {
    await stack.writeConfig(config);
    await stack.session.reloadConfig();
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "clan-backup-e2e-"));
    repository = join(tmp, "repository");
    passwordFile = join(tmp, "password");
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await makeGeneration(join(tmp, "generation"), { generation: "family-1" });
    stack = await startSessionStack({ config: network(null), daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!);
    stack.session.onNetworkChanged((changed) => published.push(changed), (error) => {
      throw error;
    });
    stateDisk = join(stack.root, "state", "family", "state.qcow2");
    await makeExt4Disk(stateDisk);
    await stack.session.start("family");
    await guestMountedState();
    bar = execa("node", [`${REPO}/bin/clanctl.js`, "bar", "--format", "waybar", "--network", "family"], { env: { ...process.env, ...stack.env }, reject: false, stdin: "pipe" });
    bar.stdout?.on("data", (chunk: Buffer) => (barOutput += chunk.toString()));
  });

  afterAll(async () => {
    bar?.kill();
    await bar;
    notifications?.stop();
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("configuring a backup of a running VM backs it up at once, its filesystem frozen for the copy and thawed after", async () => {
    await guest("echo before-backup > /state/data; sync");
    // Written without sync: only the freeze, which flushes the filesystem, gets it into the copy for sure.
    const hook = ["/bin/sh", "-c", "echo dumped > /state/hook-dump"];
    await applyConfig(network({ preBackupHooks: [hook] }));
    const done = await stack.waitForNetwork("family", (s) => s.backupState === "ok", 60_000);
    expect(published.some((s) => s.backupState === "running")).toBe(true);
    expect(stack.sessiond.output()).toMatch(/family: backed up as snapshot [0-9a-f]{8} \(\d+ bytes, 1 filesystems frozen, 1 hooks\)/);

    const [snapshot] = (await stack.session.backups("family"));
    expect(snapshot).toBeDefined();
    expect(snapshot!.time).toBeGreaterThanOrEqual(done.backupLastAttempt - 1000);
    const backedUp = await inspectExt4Image(await resticRestore(snapshot!.id), ["/data", "/hook-dump"]);
    expect(backedUp.features).toContain("has_journal");
    expect(backedUp.features, "the copy was taken while the filesystem was frozen").not.toContain("needs_recovery");
    expect(backedUp.files).toEqual({ "/data": "before-backup\n", "/hook-dump": "dumped\n" });

    // The same look at the live disk, mounted and thawed, shows the flag: the test can tell the two apart.
    expect((await inspectExt4Image(stateDisk, [])).features).toContain("needs_recovery");
    expect(await stack.vms.guestFreezeStatus("family")).toBe("thawed");
    await guest("echo after-backup > /state/after; sync");
    expect((await inspectExt4Image(stateDisk, ["/after"])).files["/after"]).toBe("after-backup\n");
    expect(notifications.shown.filter((n) => n.summary.includes("backup"))).toEqual([]);
  });

  it("clanctl backup backs up now, and clanctl backups lists every snapshot with its size; the password may come from a command", async () => {
    await applyConfig(network({ password: { command: ["/bin/cat", passwordFile] } }));
    const before = (await status()).backupLastSuccess;
    const result = await run(["backup", "family"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^family: backed up at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const now = await status();
    expect(now.backupLastSuccess).toBeGreaterThan(before);
    expect(now).toMatchObject({ backupState: "ok", backupError: "", backupLastAttempt: now.backupLastSuccess, backupNextDue: now.backupLastSuccess + 24 * 3600_000 });
    expect(now.backupRepositorySize).toBeGreaterThan(0);
    expect(now.backupFreeSpace).toBeGreaterThan(0);

    const listing = await run(["backups", "family", "--json"]);
    const { snapshots } = JSON.parse(listing.stdout) as { snapshots: { id: string; time: number; size: number }[] };
    expect(snapshots).toHaveLength(2);
    const diskBytes = (await stat(await resticRestore(snapshots[1]!.id))).size;
    expect(snapshots[1]!.size).toBe(diskBytes);
    expect((await run(["status"])).stdout).toMatch(/^ family .* ok, last \d{4}-\d\d-\d\d \d\d:\d\d/m);
    const text = await run(["backups", "family"]);
    expect(text.stdout).toContain("family: backup ok");
    expect(text.stdout.match(/^[0-9a-f]{8} {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +[\d.]+ [KM]iB$/gm)).toHaveLength(2);
  });

  it("a repository that turns read-only once the guest is being snapshotted fails the backup with a clear error, shown in the status; the VM keeps running, thawed", async () => {
    // The hook tells the test that the repository was opened and the snapshot begins; the copy (frozen) follows.
    await applyConfig(network({ preBackupHooks: [["/bin/sh", "-c", "touch /tmp/hook-started; sleep 2"]] }));
    await guest("rm -f /tmp/hook-started");
    const backup = run(["backup", "family"]);
    const hookStarted = async () => (await stack.vms.guestExec("family", ["/bin/test", "-e", "/tmp/hook-started"], 5).catch(() => undefined))?.exitCode === 0;
    await waitUntil(hookStarted, "the pre-backup hook to start");
    await execa("mount", ["--bind", repository, repository]);
    try {
      await execa("mount", ["-o", "remount,bind,ro", repository]);
      const result = await backup;
      expect(result.exitCode).not.toBe(0);
      // restic retries writing its lock for about 45 s before it gives up.
      expect(result.stderr).toMatch(/restic backup failed: unable to create lock in backend: .*read-only file system/);
    } finally {
      await execa("umount", [repository]);
    }
    const failed = await status();
    expect(failed).toMatchObject({ backupState: "failed", vmState: "running" });
    expect(failed.backupError).toMatch(/read-only file system/);
    expect(failed.backupLastAttempt).toBeGreaterThan(failed.backupLastSuccess);
    expect(stack.vmd.output()).not.toContain("THAW FAILED");
    expect(await stack.vms.guestFreezeStatus("family")).toBe("thawed");
    await guest("echo still-writable > /state/after-failure; sync");
    expect(lastAboutBackups()).toMatchObject({ summary: "family: backup failed" });
    await applyConfig(network());
  }, 180_000);

  it("a wrong password fails with a clear error before the guest is touched", async () => {
    await writeFile(passwordFile, `${wrongPassword}\n`);
    const result = await run(["backup", "family"]);
    await writeFile(passwordFile, `${password}\n`);
    expect(result.exitCode).not.toBe(0);
    const expected = `cannot open the backup repository ${repository}: wrong password or no key found`;
    expect(result.stderr).toContain(expected);
    expect(await status()).toMatchObject({ backupState: "failed", vmState: "running", backupError: expected });
    expect(await stack.vms.guestFreezeStatus("family")).toBe("thawed");
    expect(lastAboutBackups()).toMatchObject({ summary: "family: backup failed" });
  });

  it("a restore round trip brings back exactly the backed-up state, with the VM stopped meanwhile and started again", async () => {
    const marker = `X-${randomBytes(6).toString("hex")}`;
    await guest(`echo ${marker} > /state/data; sync`);
    expect((await run(["backup", "family"])).exitCode).toBe(0);
    const latest = (await stack.session.backups("family")).at(-1)!;
    await guest("echo changed-after-backup > /state/data; sync");

    const seen = published.length;
    const result = await run(["restore", "family"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(`family: restored backup ${latest.id.slice(0, 8)}; the VM is running`);
    const states = published.slice(seen).map((s) => s.vmState);
    expect(states.indexOf("stopped")).toBeGreaterThanOrEqual(0);
    expect(states.lastIndexOf("running")).toBeGreaterThan(states.indexOf("stopped"));
    await guestMountedState();
    expect(await guest("cat /state/data")).toBe(`${marker}\n`);
    expect((await inspectExt4Image(`${stateDisk}.previous`, ["/data"])).files["/data"]).toBe("changed-after-backup\n");

    // With the VM stopped, the disk afterwards is byte for byte the image in the snapshot, and the VM stays stopped.
    await stack.session.stop("family");
    const stopped = await run(["restore", "family", latest.id.slice(0, 10)]);
    expect(stopped.stdout).toBe(`family: restored backup ${latest.id.slice(0, 8)}; the VM is stopped`);
    expect(sha256(await readFile(stateDisk))).toBe(sha256(await readFile(await resticRestore(latest.id))));

    // A stopped VM is backed up as it is.
    expect((await run(["backup", "family"])).exitCode).toBe(0);
    expect(stack.sessiond.output()).toMatch(/family: backed up as snapshot [0-9a-f]{8} \(\d+ bytes, VM stopped, 0 hooks\)/);

    const missing = await run(["restore", "family", "deadbeef"]);
    expect(missing.stderr).toContain('restore failed at "find the snapshot" (the previous state disk is kept): family has no backup deadbeef');
    await stack.session.start("family");
    await guestMountedState();
  });

  it("a backup due while clan-sessiond was not running is caught up as soon as it runs, after telling the user it is overdue", async () => {
    earlierSessiondLogs.push(stack.sessiond.output());
    await stack.sessiond.stop();
    const recordsFile = join(stack.env.XDG_STATE_HOME!, "clan-desktop", "backups.json");
    const records = JSON.parse(await readFile(recordsFile, "utf8"));
    const longAgo = Date.now() - 50 * 3600_000;
    Object.assign(records.networks.family, { lastSuccess: longAgo, lastAttempt: longAgo, lastError: "" });
    await writeFile(recordsFile, JSON.stringify(records));
    await stack.restartSessiond();
    const caughtUp = await stack.waitForNetwork("family", (s) => s.backupState === "ok" && s.backupLastSuccess > longAgo, 60_000);
    expect(caughtUp.backupLastSuccess).toBeGreaterThan(Date.now() - 120_000);
    const overdue = notifications.shown.filter((n) => n.summary === "family: backup overdue");
    expect(overdue).toHaveLength(1);
    expect(overdue[0]!.body).toContain(`its last backup is from ${new Date(longAgo).toISOString()}`);
  });

  it("a clan-sessiond stopped in the middle of a backup leaves the guest thawed and its copy is cleaned up at the next start", async () => {
    await applyConfig(network({ preBackupHooks: [["/bin/sleep", "2"]] }));
    const backup = clanctl(["backup", "family"], stack.env);
    const work = join(stack.env.XDG_STATE_HOME!, "clan-desktop", "backup-work");
    // The work directory exists from the moment clan-vmd is asked for the snapshot, whose hook then sleeps.
    await waitUntil(async () => (await readdir(work).catch(() => [])).length > 0, "the backup to reach the snapshot");
    earlierSessiondLogs.push(stack.sessiond.output());
    await stack.sessiond.stop();
    expect((await backup).exitCode).not.toBe(0);
    // clan-vmd finishes the snapshot it was asked for, freezing and thawing the guest by itself. The copy's file
    // appears when the copy begins, with the guest frozen; the status says when the freeze is over.
    const copyStarted = async () => (await readdir(work, { recursive: true })).some((name) => name.endsWith("state.qcow2"));
    await waitUntil(copyStarted, "clan-vmd to copy the state disk");
    await waitUntil(async () => (await stack.vms.guestFreezeStatus("family")) === "thawed", "the guest to be thawed");
    await guest("echo ok > /state/interrupted; sync");
    await stack.restartSessiond();
    await waitUntil(async () => (await readdir(work)).length === 0, "the abandoned copy to be removed");
    expect(stack.sessiond.output()).toContain("removed 1 backup work directories left by an earlier clan-sessiond");
  });

  it("never shows the repository password: not in either daemon's log, D-Bus replies and signals, notifications, clanctl or the bar", async () => {
    const everything = [
      ...earlierSessiondLogs,
      stack.sessiond.output(),
      stack.vmd.output(),
      JSON.stringify(published),
      JSON.stringify(notifications.shown),
      JSON.stringify(await stack.session.listNetworks()),
      JSON.stringify(await stack.session.backups("family")),
      clanctlOutput.join("\n"),
      barOutput,
    ].join("\n");
    expect(barOutput).toContain("family");
    expect(clanctlOutput.join("\n")).toContain("wrong password or no key found");
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(wrongPassword);
  });
});

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
