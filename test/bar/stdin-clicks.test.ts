import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stdinIsSignalDrivenElsewhere } from "../../src/bar/stdin-clicks.js";

// fdinfo as Linux writes it. i3blocks 1.4 leaves its own stdin, with O_ASYNC|O_NONBLOCK (024000), to a
// persistent block (measured on Debian 12); a pipe of one's own has neither.
describe("recognising i3blocks 1.4's shared stdin", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-fdinfo-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const fdinfo = async (flags: string) => {
    const file = join(dir, flags);
    await writeFile(file, `pos:\t0\nflags:\t${flags}\nmnt_id:\t16\nino:\t140162\n`);
    return file;
  };

  it("leaves a signal-driven stdin alone and reads any other", async () => {
    expect(await stdinIsSignalDrivenElsewhere(await fdinfo("024000"))).toBe(true);
    expect(await stdinIsSignalDrivenElsewhere(await fdinfo("00"))).toBe(false);
    expect(await stdinIsSignalDrivenElsewhere(await fdinfo("04000"))).toBe(false);
  });

  it("assumes no i3blocks 1.4 without /proc, and fails loudly on an unexpected fdinfo", async () => {
    expect(await stdinIsSignalDrivenElsewhere(join(dir, "missing"))).toBe(false);
    await writeFile(join(dir, "odd"), "pos:\t0\n");
    await expect(stdinIsSignalDrivenElsewhere(join(dir, "odd"))).rejects.toThrow(/no flags line/);
  });

  it("reads this process's own stdin flags", async () => {
    expect(typeof (await stdinIsSignalDrivenElsewhere())).toBe("boolean");
  });
});
