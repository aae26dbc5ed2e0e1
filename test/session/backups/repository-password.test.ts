import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordFileWarning, readRepositoryPassword, scrubbingFailures } from "../../../src/session/backups/repository-password.js";
import { ClanError } from "../../../src/shared/errors.js";

describe("a backup repository's password", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-password-test-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("comes from a file, without its line break", async () => {
    const file = join(dir, "password");
    await writeFile(file, "correct horse battery staple\n");
    expect((await readRepositoryPassword({ file })).text).toBe("correct horse battery staple");
  });

  it("comes from a program run without a shell: its arguments are words, not shell syntax", async () => {
    const password = await readRepositoryPassword({ command: ["/bin/echo", "s3cret; $(rm -rf /)"] });
    expect(password.text).toBe("s3cret; $(rm -rf /)");
  });

  it("says how a program failed without showing what it printed on stdout", async () => {
    const failing = readRepositoryPassword({ command: ["/bin/sh", "-c", "echo half-a-secret; echo 'no such entry' >&2; exit 3"] });
    await expect(failing).rejects.toThrow('the backup password command "/bin/sh" exited with 3: no such entry');
    await expect(failing).rejects.not.toThrow(/half-a-secret/);
    await expect(readRepositoryPassword({ command: [join(dir, "missing")] })).rejects.toThrow(/the backup password command .*missing.*ENOENT/);
  });

  it("is refused when empty or longer than a line, since restic reads one line", async () => {
    await expect(readRepositoryPassword({ command: ["/bin/echo", "  "] })).rejects.toThrow(/is empty/);
    await expect(readRepositoryPassword({ command: ["/bin/printf", "one\\ntwo\\n"] })).rejects.toThrow(/spans several lines/);
  });

  it("names a file it cannot read", async () => {
    await expect(readRepositoryPassword({ file: join(dir, "nope") })).rejects.toThrow(/cannot read the backup password file: ENOENT/);
  });

  it("is scrubbed from any failure's message, keeping the error's code", async () => {
    const password = await readRepositoryPassword({ command: ["/bin/echo", "hunter2"] });
    expect(password.scrub("open /srv/hunter2/config: hunter2!")).toBe("open /srv/[password]/config: [password]!");
    const failure = scrubbingFailures(password, async () => {
      throw new ClanError("BackupFailed", "restic said hunter2");
    });
    await expect(failure).rejects.toThrow("restic said [password]");
    await expect(failure).rejects.toMatchObject({ code: "BackupFailed" });
  });

  it("in a file other users may read is a warning naming the file and the fix, as ssh does for keys", async () => {
    const file = join(dir, "shared password");
    await writeFile(file, "s3cret\n");
    await chmod(file, 0o644);
    expect(await passwordFileWarning({ file })).toBe(`the backup password file ${file} is open to other users (mode 0644); make it private: chmod 600 '${file}'`);
    expect((await readRepositoryPassword({ file })).text).toBe("s3cret");
    await chmod(file, 0o600);
    expect(await passwordFileWarning({ file })).toBe("");
    expect(await passwordFileWarning({ command: ["/bin/echo", "x"] })).toBe("");
  });
});
