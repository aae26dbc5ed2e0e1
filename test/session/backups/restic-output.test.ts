import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { essentialLines } from "../../../src/session/backups/restic.js";

// What the user is told when restic fails, from restic 0.14's real stderr.

describe("restic's error output, boiled down", () => {
  it("takes the Fatal line when there is one", () => {
    expect(essentialLines("reading repository password from stdin\nFatal: wrong password or no key found\n")).toBe("wrong password or no key found");
  });

  it("drops retries and the Go stack trace of a non-fatal error, and reads what remains as 'doing: cause'", async () => {
    // Captured from `restic backup` into a repository on a read-only bind mount.
    const stderr = await readFile(new URL("fixtures/restic-read-only-lock.stderr", import.meta.url), "utf8");
    expect(essentialLines(stderr)).toMatch(/^unable to create lock in backend: open \/tmp\/rtest\/repo2\/locks\/[0-9a-f-]+tmp-\d+: read-only file system$/);
  });

  it("says so when restic said nothing", () => {
    expect(essentialLines("")).toBe("no message");
  });
});
