import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/session/config/load.js";
import { configText, networkInput } from "./fixtures.js";

const FILE = "/home/alice/.config/clan-desktop/config.json";

function parseBackup(backup: unknown) {
  const result = parseConfigText(configText({ family: networkInput({ backup }) }), FILE);
  return result.ok ? { ok: true as const, backup: result.config.networks.family?.backup } : { ok: false as const, message: result.error.message };
}

const PASSWORD = { file: "/home/alice/.config/clan-desktop/family.password" };

describe("a network's backup in config.json", () => {
  it("is absent unless configured, and gets a daily schedule, 48 hours to overdue and a retention by default", () => {
    const none = parseConfigText(configText({ family: networkInput() }), FILE);
    expect(none.ok && none.config.networks.family?.backup).toBeUndefined();
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD })).toEqual({
      ok: true,
      backup: {
        repository: "/srv/restic",
        password: PASSWORD,
        everyHours: 24,
        overdueAfterHours: 48,
        keep: { last: 1, daily: 7, weekly: 4, monthly: 12 },
        preBackupHooks: [],
      },
    });
  });

  it("makes a weekly backup overdue after two weeks unless told otherwise", () => {
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD, everyHours: 168 })).toMatchObject({ backup: { overdueAfterHours: 336 } });
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD, everyHours: 168, overdueAfterHours: 200 })).toMatchObject({ backup: { overdueAfterHours: 200 } });
  });

  it("refuses an overdue age that is not longer than the schedule", () => {
    const result = parseBackup({ repository: "/srv/restic", password: PASSWORD, everyHours: 24, overdueAfterHours: 24 });
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining("networks.family.backup.overdueAfterHours: must be longer than everyHours (24)") });
  });

  it("accepts local, sftp and REST repositories", () => {
    for (const repository of ["/srv/restic", "sftp:alice@nas.lan:/srv/restic", "sftp:nas:restic", "sftp:[fd00::1]:/srv", "rest:https://backup.example.org:8000/family", "rest:http://[200:1::2]/family"]) {
      expect(parseBackup({ repository, password: PASSWORD }), repository).toMatchObject({ ok: true });
    }
  });

  it("refuses repositories that restic or ssh could take for options, credentials in URLs and other backends", () => {
    for (const repository of ["relative/path", "sftp:-oProxyCommand=touch%20x:/p", "sftp:alice@-oProxyCommand=x:/p", "rest:https://user:secret@host/x", "s3:s3.amazonaws.com/bucket", "/srv/a\nb", "sftp:host:"]) {
      const result = parseBackup({ repository, password: PASSWORD });
      expect(result, repository).toMatchObject({ ok: false, message: expect.stringContaining("networks.family.backup.repository: must be an absolute path") });
    }
  });

  it("takes the password from a file or from a program's argv, never from a shell string", () => {
    expect(parseBackup({ repository: "/srv/restic", password: { command: ["pass", "show", "restic/family"] } })).toMatchObject({ ok: true });
    for (const password of [{ command: "pass show restic/family" }, { command: [] }, { command: [""] }, { file: "relative" }, { file: "/a", command: ["x"] }, "hunter2"]) {
      expect(parseBackup({ repository: "/srv/restic", password }), JSON.stringify(password)).toMatchObject({ ok: false, message: expect.stringContaining("networks.family.backup.password") });
    }
  });

  it("takes pre-backup hooks as argv lists", () => {
    const hooks = [["/run/current-system/sw/bin/pg_dumpall", "-f", "/var/backup/all.sql"]];
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD, preBackupHooks: hooks })).toMatchObject({ backup: { preBackupHooks: hooks } });
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD, preBackupHooks: ["pg_dumpall > x"] })).toMatchObject({ ok: false });
  });

  it("reports a misspelt field", () => {
    expect(parseBackup({ repository: "/srv/restic", password: PASSWORD, every: 12 })).toMatchObject({ ok: false, message: expect.stringContaining("networks.family.backup.every: unknown field") });
  });
});
