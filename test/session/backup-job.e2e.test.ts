import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import type { Job } from "../../src/shared/job-api.js";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import { clanctl, REPO, waitUntil } from "../helpers/daemons.js";
import { makeExt4Disk } from "../helpers/ext4-disk.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// Backups and restores as jobs, end to end: real restic, real clan-vmd and QEMU running the test guest with its
// guest agent. The backup is slow for a real reason: its pre-backup hook works in the guest for 30 s, as a
// database dump would, so the backup takes longer than GDBus's 25 s default call timeout (the one the GNOME
// extension used to hit). The call that starts it is made with gdbus, the GLib client GNOME Shell uses, at its
// default timeout.

const needs = ["restic", "qemu-system-x86_64", "qemu-img", "dbus-daemon", "mkfs.ext4", "gdbus", "script"];
const HOOK_SECONDS = 30;
const GDBUS_DEFAULT_TIMEOUT_MS = 25_000;

describe.skipIf(!needs.every(hasBinary))(`backups and restores as jobs ${skipReason(...needs)}`, () => {
  let tmp: string;
  let stack: SessionStack;
  let notifications: { shown: ShownNotification[]; stop(): void };
  let bar: ResultPromise;
  let barOutput = "";
  let repository: string;
  let passwordFile: string;
  const jobs: Job[] = [];
  const published: NetworkStatus[] = [];

  /** family, backed up with these hooks; not backed up for null. */
  const network = (preBackupHooks: string[][] | null = []): ConfigInput => ({
    networks: {
      family: {
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { profile: join(tmp, "generation") },
        ...(preBackupHooks ? { backup: { repository, password: { file: passwordFile }, keep: { last: 50 }, preBackupHooks } } : {}),
      },
    },
  });
  const applyConfig = async (config: ConfigInput) => {
    await stack.writeConfig(config);
    await stack.session.reloadConfig();
  };
  const jobChanges = (id: string) => jobs.filter((job) => job.id === id);
  const ended = (id: string, timeoutMs = 120_000) =>
    waitUntil(() => jobChanges(id).find((job) => job.state !== "running"), `job ${id} to end`, timeoutMs);
  const gdbusCall = (method: string, ...args: string[]) =>
    execa("gdbus", ["call", "--session", "--dest", "org.clan.Desktop.Session1", "--object-path", "/org/clan/Desktop/Session1",
      "--method", `org.clan.Desktop.Session1.Manager.${method}`, ...args], { env: { ...process.env, ...stack.env } });
  /** gdbus prints a reply of one string as ('…',). */
  const replyString = (stdout: string) => /^\('([^']*)',\)$/.exec(stdout.trim())?.[1];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "clan-backup-job-e2e-"));
    repository = join(tmp, "repository");
    passwordFile = join(tmp, "password");
    await writeFile(passwordFile, `pw-${randomBytes(9).toString("hex")}\n`, { mode: 0o600 });
    await makeGeneration(join(tmp, "generation"), { generation: "family-1" });
    stack = await startSessionStack({ config: network(null), daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!);
    stack.session.onJobChanged((job) => jobs.push(job), (error) => {
      throw error;
    });
    stack.session.onNetworkChanged((status) => published.push(status), (error) => {
      throw error;
    });
    await makeExt4Disk(join(stack.root, "state", "family", "state.qcow2"));
    await stack.session.start("family");
    await stack.waitForNetwork("family", (s) => s.vmState === "running", 120_000);
    // The first, scheduled backup runs without the slow hook, so that the slow one is the one the test starts.
    await applyConfig(network());
    await stack.waitForNetwork("family", (s) => s.backupState === "ok", 120_000);
    await applyConfig(network([["/bin/sleep", String(HOOK_SECONDS)]]));
    bar = execa("node", [`${REPO}/bin/clanctl.js`, "bar", "--format", "i3bar", "--network", "family"], { env: { ...process.env, ...stack.env }, reject: false, stdin: "pipe" });
    bar.stdout?.on("data", (chunk: Buffer) => (barOutput += chunk.toString()));
  }, 240_000);

  afterAll(async () => {
    bar?.kill();
    await bar;
    notifications?.stop();
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("a backup slower than D-Bus's timeout starts at once with an id, reports its steps and success; starts meanwhile join it", async () => {
    const shownBefore = notifications.shown.length;
    const started = await gdbusCall("StartBackup", "family");
    const id = replyString(started.stdout);
    expect(id, started.stdout).toMatch(/^backup-family-\d+$/);
    // The reply came while the work goes on: the job is still running.
    expect(await stack.session.getJob(id!)).toMatchObject({ id, kind: "backup", network: "family", state: "running", finishedAt: 0 });

    // Joining: another start, by the typed client or by clanctl --no-wait, gets the same job.
    expect(await stack.session.startBackup("family")).toBe(id);
    const noWait = await clanctl(["backup", "family", "--no-wait"], stack.env);
    expect(noWait.stdout.trim(), noWait.all).toBe(id);
    // clanctl without --no-wait joins too, shows the steps (plain lines: its stderr is no terminal) and exits 0.
    const following = await clanctl(["backup", "family"], stack.env);
    expect(following.exitCode, following.all).toBe(0);
    expect(following.stdout).toMatch(/^family: backed up at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(following.stderr).toContain("family: backing up — storing the copy in the repository\n");

    const end = await ended(id!);
    expect(end).toMatchObject({ state: "succeeded", error: "", fraction: 1 });
    expect(end.result).toMatch(/^stored as snapshot [0-9a-f]{8}$/);
    expect(end.finishedAt - end.startedAt, "the backup outlasted GDBus's default timeout").toBeGreaterThan(GDBUS_DEFAULT_TIMEOUT_MS);
    const phases = [...new Set(jobChanges(id!).map((job) => job.phase))];
    expect(phases).toEqual(["starting", "opening the repository", "running the pre-backup hooks and copying the state disk", "storing the copy in the repository", "applying the retention"]);
    const snapshots = await stack.session.backups("family");
    expect(end.result).toBe(`stored as snapshot ${snapshots.at(-1)!.id.slice(0, 8)}`);

    // The network's status carried the job while it ran, and the bar showed it.
    expect(published.some((s) => s.jobId === id && s.jobKind === "backup" && s.jobPhase === "running the pre-backup hooks and copying the state disk")).toBe(true);
    expect(await stack.session.getNetwork("family")).toMatchObject({ jobId: "", jobKind: "", backupState: "ok" });
    expect(barOutput).toContain("⟳ backing up");
    // One notification tells the outcome.
    expect(notifications.shown.slice(shownBefore)).toEqual([{ summary: "family: backed up", body: end.result }]);
    expect((await stack.session.jobs()).map((job) => job.id)).toContain(id);
  }, 180_000);

  it("on a terminal, clanctl shows the progress on one line rewritten in place; a failing backup job ends failed and clanctl exits 1", async () => {
    await applyConfig(network([["/bin/sh", "-c", "sleep 3; echo dump went wrong >&2; exit 3"]]));
    // script(1) gives clanctl a pseudo-terminal; its stdout and stderr both reach the log.
    const log = join(tmp, "tty.log");
    const command = `DBUS_SESSION_BUS_ADDRESS='${stack.env.DBUS_SESSION_BUS_ADDRESS}' CLAN_DESKTOP_CONFIG='${stack.env.CLAN_DESKTOP_CONFIG}' node '${REPO}/bin/clanctl.js' backup family`;
    const result = await execa("script", ["-qefc", command, log], { reject: false });
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stdout).toContain("\r\x1b[Kfamily: backing up — running the pre-backup hooks and copying the state disk");
    expect(result.stdout).toMatch(/clanctl: backup of family failed: .*pre-backup hook .* failed in the guest \(exit 3\): dump went wrong/);
    const failed = jobs.filter((job) => job.kind === "backup" && job.state === "failed").at(-1);
    expect(failed?.error).toMatch(/pre-backup hook .* failed in the guest \(exit 3\): dump went wrong/);
    expect(notifications.shown.filter((n) => n.summary === "family: backup failed")).toHaveLength(1);
    await applyConfig(network());
  }, 120_000);

  it("a restore is a job too: its steps, the VM stopped and started again, the id restored as its result; asking again joins it", async () => {
    const latest = (await stack.session.backups("family")).at(-1)!;
    const id = await stack.session.startRestore("family", latest.id.slice(0, 12));
    expect(id).toMatch(/^restore-family-\d+$/);
    // Asked again while it runs: the same job, not a refusal.
    expect(await stack.session.startRestore("family", latest.id.slice(0, 12))).toBe(id);
    const end = await ended(id);
    expect(end).toMatchObject({ state: "succeeded", result: latest.id });
    expect([...new Set(jobChanges(id).map((job) => job.phase))]).toEqual([
      "starting", "find the snapshot", "download the snapshot", "stop the VM", "replace the state disk", "start the VM on the restored disk",
    ]);
    expect((await stack.session.getNetwork("family")).vmState).toBe("running");
    const cli = await clanctl(["restore", "family", "--no-wait"], stack.env);
    expect(cli.stdout.trim(), cli.all).toMatch(/^restore-family-\d+$/);
    expect(await ended(cli.stdout.trim())).toMatchObject({ state: "succeeded", result: latest.id });
    // A refusal comes back from the start call itself, not as a job.
    const refused = await clanctl(["restore", "nosuch"], stack.env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('no network named "nosuch" in the config');
  }, 180_000);
});
