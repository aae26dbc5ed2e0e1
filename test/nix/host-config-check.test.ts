import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repositoryRoot } from "./nix.js";

// nixosModules.host checks the config.json it writes with nix/host/check-config.mjs while the system is built. Here
// it runs against this checkout's build (dist/), standing in for the package's lib/node_modules/clan-desktop.

const checker = join(repositoryRoot, "nix/host/check-config.mjs");
const built = existsSync(join(repositoryRoot, "dist/session/config/load.js"));
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-host-config-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function check(config: unknown) {
  const file = join(root, "config.json");
  await writeFile(file, JSON.stringify(config));
  const result = await execa("node", [checker, repositoryRoot, file], { reject: false });
  return { exitCode: result.exitCode, stderr: result.stderr.replaceAll(file, "config.json") };
}

describe.skipIf(!built)(`nix/host/check-config.mjs${built ? "" : " [skipped: dist/ not built — run npm run build]"}`, () => {
  it("accepts what services.clan-desktop.networks and settings make", async () => {
    const networks = {
      family: { workspaces: ["3:family"], colour: "#e06c75", source: { profile: "/nix/var/nix/profiles/per-user/alice/clan/family" } },
    };
    expect(await check({ networks, switchDebounceMs: 250 })).toEqual({ exitCode: 0, stderr: "" });
  });

  it("fails the build naming the field of a mistake", async () => {
    const networks = { family: { workspaces: ["3:family"], colour: "red", source: { profile: "/p" } } };
    const result = await check({ networks });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("networks.family.colour");
  });
});
