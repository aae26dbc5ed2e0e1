import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnsweringNotifications } from "../helpers/answering-notifications.js";
import { clanctl } from "../helpers/daemons.js";
import { startGitHttpsServer, type GitHttpsServer } from "../helpers/git-https-server.js";
import { createNetworkFlake, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// `clanctl join` end to end: links to flakes made by network-flake.ts — on a terminal as git+file, from the desktop
// over https from a local server (a clicked link may not name a local source) — the real Nix, clan-sessiond and
// clan-vmd. Hostile links are refused before anything is fetched: `nix` and `git` on PATH are tripwires then.
// join-hostile.e2e.test.ts plays hostile networks.

const needs = ["nix", "git", "openssl", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const run = Date.now().toString(36);

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`clanctl join ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let flake: NetworkFlake;
  let stack: SessionStack;
  let tripwires: string;
  let revision: string;
  let https: GitHttpsServer;

  beforeAll(async () => {
    flake = await createNetworkFlake();
    revision = await flake.commit(`joined-${run}`);
    https = await startGitHttpsServer();
    stack = await startSessionStack({
      config: { networks: {} },
      daemonEnv: { NIX_CONFIG: TEST_NIX_CONFIG, XDG_STATE_HOME: `${flake.dir}-state`, GIT_SSL_CAINFO: https.caFile },
    });
    tripwires = await mkdtemp(join(tmpdir(), "clan-tripwires-"));
    for (const tool of ["nix", "git"]) {
      await writeFile(join(tripwires, tool), `#!/bin/sh\necho "$0" >>${tripwires}/ran\nexit 1\n`);
      await chmod(join(tripwires, tool), 0o755);
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await https?.stop();
    for (const dir of [tripwires, flake?.dir, flake && `${flake.dir}-state`]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const link = () => `clan://git+file://${flake.dir}#default`;
  const configText = () => readFile(stack.configFile, "utf8");

  it("without a terminal and without --yes it shows what the link says, and fetches nothing", async () => {
    const result = await clanctl(["join", link()], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain(`source:    git+file://${flake.dir}`);
    expect(result.stdout).toContain("machine:   default");
    expect(result.stdout).toContain("WARNING:   the source is a repository on this computer");
    expect(result.stdout).not.toContain("Fetching");
    expect(result.stderr).toContain("nothing was fetched");
    expect(JSON.parse(await configText()).networks).toEqual({});
  });

  it("Fetch then Cancel on the desktop notifications joins nothing, after showing the revision and the VM", async () => {
    const url = await https.publish(flake.dir, "cancelled");
    const notifications = await startAnsweringNotifications(stack.env.DBUS_SESSION_BUS_ADDRESS!, ["accept", "cancel"]);
    try {
      const result = await clanctl(["join", "--from-desktop", `clan://git+${url}?ref=main#default`], stack.env);
      expect(result.stdout, result.all).toContain("Nothing was joined.");
      expect(notifications.asked.map((asked) => asked.summary)).toEqual(["Fetch the source of network cancelled from 127.0.0.1?", "Join network cancelled?"]);
      expect(notifications.asked[1]!.actions).toEqual(["accept", "Join", "cancel", "Cancel"]);
      expect(notifications.asked[1]!.body).toContain(`revision:  ${revision}`);
      expect(notifications.asked[1]!.body).toContain("machine:   default — builds packages.x86_64-linux.default");
      expect(notifications.asked[1]!.body).toContain("the VM:    not described (the flake has no configs.json); known only once built");
      expect(JSON.parse(await configText()).networks).toEqual({});
    } finally {
      notifications.stop();
    }
  });

  it("--yes registers the network with a free workspace and colour, builds generation 1 and runs it", async () => {
    await stack.writeConfig({ networks: { home: { workspaces: ["1:home"], colour: "#e06c75", source: { profile: "/nonexistent/home" } } } });
    const result = await clanctl(["join", "--yes", "--name", "club", link()], stack.env);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("Registered network club");
    expect(result.stdout).toMatch(/club: generation 1 is running on workspace 2:club; the VM has 256 MiB, 1 core, no state disk, display none, network user\./);
    const config = JSON.parse(await configText());
    expect(config.networks.home.colour).toBe("#e06c75");
    expect(config.networks.club).toEqual({
      workspaces: ["2:club"],
      colour: "#56b6c2",
      source: { flake: `git+file://${flake.dir}`, attribute: "packages.x86_64-linux.default" },
    });
    const status = await clanctl(["status", "--json"], stack.env);
    const club = JSON.parse(status.stdout).networks.find((n: { name: string }) => n.name === "club");
    expect(club).toMatchObject({ vmState: "running", workspaces: ["2:club"], colour: "#56b6c2" });
    expect((await stack.session.generations("club")).find((g) => g.current)).toMatchObject({ number: 1, revision });
    expect(await stack.vms.consoleTail("club", 4096)).toContain(`clan test guest joined-${run} ready`);
  });

  it("Fetch and Join on the desktop notifications join an https link, as the link handler does", async () => {
    const second = await createNetworkFlake();
    await second.commit(`desktop-${run}`);
    const url = await https.publish(second.dir, "desk");
    const notifications = await startAnsweringNotifications(stack.env.DBUS_SESSION_BUS_ADDRESS!, ["accept", "accept"]);
    try {
      const result = await clanctl(["join", "--from-desktop", "--name", "desk", `clan://git+${url.replace("https://", "https//")}?ref=main#default`], stack.env);
      expect(result.exitCode, result.all).toBe(0);
      expect(notifications.asked[0]!.body).toContain('repaired:  added the ":" that browsers drop after "git+https"');
      expect(JSON.parse(await configText()).networks.desk).toMatchObject({ workspaces: ["3:desk"], source: { flake: `git+${url}?ref=main` } });
      expect((await stack.session.getNetwork("desk")).vmState).toBe("running");
    } finally {
      notifications.stop();
      await stack.vms.stop("desk").catch(() => undefined);
      await rm(second.dir, { recursive: true, force: true });
    }
  });

  it("joining the same source again is refused", async () => {
    const result = await clanctl(["join", "--yes", link()], stack.env);
    expect(result.stderr).toContain("is already joined as network club");
  });

  it.each([
    ["shell metacharacters", "clan://git+https://example.org/x;touch${IFS}/tmp/pwned#m", 'contains ";"'],
    ["a huge link", `clan://git+https://example.org/${"a".repeat(100_000)}`, "100031 characters long"],
    ["a Cyrillic look-alike host", "clan://git+https://gіthub.com/org/repo", "U+0456"],
    ["an unknown scheme", "ssh://example.org/x", 'unknown scheme "ssh:"'],
    ["an ipfs link on a machine without ipfs", "nix://ipfs-QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "needs ipfs, which is not installed"],
  ])("%s is refused with a clear message, and nothing is fetched or run", async (_what, hostile, expected) => {
    const env = { ...stack.env, PATH: `${tripwires}:${process.env.PATH}` };
    const result = await clanctl(["join", "--yes", hostile], env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr.length).toBeLessThan(1000);
    await expect(readFile(join(tripwires, "ran"), "utf8")).rejects.toThrow(/ENOENT/);
    expect(Object.keys(JSON.parse(await configText()).networks)).toEqual(["home", "club", "desk"]);
  });
});

// Makes sure the desktop file that registers the link handler says what docs/links.md says.
describe("the link handler's desktop file", () => {
  it("handles clan: and nix: links with the manager's join page", async () => {
    const text = await readFile(new URL("../../share/applications/clan-desktop-join.desktop", import.meta.url), "utf8");
    expect(text).toMatch(/^MimeType=x-scheme-handler\/clan;x-scheme-handler\/nix;$/m);
    expect(text).toMatch(/^Exec=clan-manager --join %u$/m);
  });
});
