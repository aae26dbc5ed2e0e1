import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { builtConfigs } from "../../../src/session/applications/built-configs.js";
import { checkConfigsText, CONFIGS_MAX_BYTES, readBounded } from "../../../src/session/applications/configs-file-read.js";
import { makeTempDir, type TempDir } from "../config/fixtures.js";

// A joined network's configs.json is its admins' data, read from the source its generation was built from. The
// attacker is those admins: their configs.json is a symlink to a file of the user (or to a directory inside the
// source leading out of it), a directory, a file bigger than any real one, not JSON, or JSON that Nix would refuse.
// Nothing of the user's file may come back, and each refusal names its cause.

const MARKER = "the-users-own-secret-marker";

let dir: TempDir;
let source: string;
let userFile: string;

beforeEach(async () => {
  dir = await makeTempDir();
  source = join(dir.path, "source");
  await mkdir(source);
  userFile = await dir.write("secret.txt", `{"home": {"system": "x86_64-linux", "adminSshKeys": ["${MARKER}"]}}`);
});

afterEach(async () => {
  await dir.remove();
});

const readInSource = () => readBounded(join(source, "configs.json"), join(source, "configs.json"));

describe("reading a configs.json the admins wrote", () => {
  it("refuses a configs.json that is a symlink to the user's file, returning none of it", async () => {
    await symlink(userFile, join(source, "configs.json"));
    const read = readInSource();
    await expect(read).rejects.toThrow(/configs\.json is a symlink; clan-sessiond reads and writes only a regular configs\.json$/);
    await expect(read).rejects.not.toThrow(MARKER);
  });

  it("refuses a file reached through a symlinked directory that leads out of the source", async () => {
    await symlink(dir.path, join(source, "linked"));
    await writeFile(join(dir.path, "configs.json"), `{"home": {"system": "x86_64-linux"}}`);
    await expect(readBounded(join(source, "linked", "configs.json"), join(source, "linked", "configs.json"))).rejects.toThrow(
      `leads to ${join(dir.path, "configs.json")}, outside ${join(source, "linked", "configs.json")}`,
    );
  });

  it("refuses a directory, a FIFO (without blocking on it) and a file bigger than any real configs.json", async () => {
    await mkdir(join(source, "configs.json"));
    await expect(readInSource()).rejects.toThrow(/configs\.json is not a regular file$/);
    const fifo = join(dir.path, "fifo");
    await execa("mkfifo", [fifo]);
    await expect(readBounded(fifo, fifo)).rejects.toThrow(/fifo is not a regular file$/);
    const huge = join(dir.path, "huge.json");
    await writeFile(huge, `{"home": {"system": "x86_64-linux", "adminSshKeys": ["${"A".repeat(CONFIGS_MAX_BYTES)}"]}}`);
    await expect(readBounded(huge, huge)).rejects.toThrow(`more than the ${CONFIGS_MAX_BYTES} a configs.json may have`);
  });

  it("names what is wrong with text that is not JSON or that Nix would refuse", () => {
    expect(checkConfigsText(`{"home": `)).toEqual({ ok: false, problem: expect.stringMatching(/^not JSON: /) });
    expect(checkConfigsText(`{"home": {"system": "x86_64-linux", "networkLayer": "carrier-pigeon"}}`)).toEqual({
      ok: false,
      problem: expect.stringContaining('entry "home", field "networkLayer"'),
    });
    expect(checkConfigsText(`{"home": {"system": "x86_64-linux"}}`)).toEqual({ ok: true, configs: { home: { system: "x86_64-linux" } } });
  });
});

describe("which generation's configs.json a joined network shows", () => {
  const flake = "git+https://git.example.org/club/infra?ref=main";

  it("says so when the network has no generation yet", async () => {
    const profile = join(dir.path, "profiles", "club");
    expect(await builtConfigs("club", flake, profile)).toEqual({
      text: "",
      reason: "joined: its admins keep this in git+https://git.example.org/club/infra?ref=main; club has no generation yet, so no configs.json was built to show",
      path: "",
    });
  });

  it("says so when the current generation was not built by clan-sessiond (no revision recorded)", async () => {
    const profiles = join(dir.path, "profiles");
    await mkdir(profiles);
    await symlink(source, join(profiles, "club-1-link"));
    await symlink("club-1-link", join(profiles, "club"));
    const read = await builtConfigs("club", flake, join(profiles, "club"));
    expect(read).toEqual({ text: "", reason: expect.stringMatching(/; generation 1 has no recorded source revision \(it was not built by clan-sessiond\)$/), path: "" });
  });
});
