import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interface as dbusInterface, sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clanctl } from "../helpers/daemons.js";
import { createNetworkFlake, TEST_NIX_CONFIG, type NetworkFlake } from "../helpers/network-flake.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// `clanctl join` end to end: a git+file link to a flake made by network-flake.ts, the real Nix, clan-sessiond and
// clan-vmd. Hostile links are refused before anything is fetched: `nix` and `git` on PATH are tripwires then.

const needs = ["nix", "git", "qemu-system-x86_64", "dbus-daemon"];
const isRoot = process.getuid?.() === 0;
const run = Date.now().toString(36);

const { Interface, method, signal } = dbusInterface;

/** A notification server with buttons that answers every question with `answer`, as a user clicking would. */
class AnsweringNotifications extends Interface {
  readonly asked: { summary: string; body: string; actions: string[] }[] = [];
  constructor(private readonly answer: string) {
    super("org.freedesktop.Notifications");
  }
  @method({ inSignature: "susssasa{sv}i", outSignature: "u" })
  Notify(_app: string, _replaces: number, _icon: string, summary: string, body: string, actions: string[]) {
    this.asked.push({ summary, body, actions });
    const id = this.asked.length;
    if (actions.length > 0) setTimeout(() => this.ActionInvoked(id, this.answer), 50);
    return id;
  }
  @method({ inSignature: "", outSignature: "as" })
  GetCapabilities() {
    return ["body", "actions"];
  }
  @signal({ signature: "us" })
  ActionInvoked(id: number, key: string) {
    return [id, key];
  }
}

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`clanctl join ${skipReason(...needs)}${isRoot ? "" : " (needs root for the Nix store)"}`, () => {
  let flake: NetworkFlake;
  let stack: SessionStack;
  let tripwires: string;
  let revision: string;

  beforeAll(async () => {
    flake = await createNetworkFlake();
    revision = await flake.commit(`joined-${run}`);
    stack = await startSessionStack({
      config: { networks: {} },
      daemonEnv: { NIX_CONFIG: TEST_NIX_CONFIG, XDG_STATE_HOME: `${flake.dir}-state` },
    });
    tripwires = await mkdtemp(join(tmpdir(), "clan-tripwires-"));
    for (const tool of ["nix", "git"]) {
      await writeFile(join(tripwires, tool), `#!/bin/sh\necho "$0" >>${tripwires}/ran\nexit 1\n`);
      await chmod(join(tripwires, tool), 0o755);
    }
  });

  afterAll(async () => {
    await stack?.stop();
    for (const dir of [tripwires, flake?.dir, flake && `${flake.dir}-state`]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const link = () => `clan://git+file://${flake.dir}#default`;
  const configText = () => readFile(stack.configFile, "utf8");

  it("without a terminal and without --yes it shows what it would fetch, and joins nothing", async () => {
    const result = await clanctl(["join", link()], stack.env);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain(`revision:  ${revision}`);
    expect(result.stdout).toContain("machine:   default — builds packages.x86_64-linux.default");
    expect(result.stdout).toContain("WARNING:   the source is a repository on this computer");
    expect(result.stderr).toContain("nothing was joined");
    expect(JSON.parse(await configText()).networks).toEqual({});
  });

  it("a Cancel on the desktop notification joins nothing", async () => {
    const bus: MessageBus = sessionBus({ busAddress: stack.env.DBUS_SESSION_BUS_ADDRESS! });
    const server = new AnsweringNotifications("cancel");
    bus.export("/org/freedesktop/Notifications", server);
    await bus.requestName("org.freedesktop.Notifications", 0);
    try {
      const result = await clanctl(["join", "--from-desktop", link()], stack.env);
      expect(result.stdout).toContain("Nothing was joined.");
      expect(server.asked[0]).toMatchObject({ summary: expect.stringMatching(/^Join network clan-flake-/), actions: ["join", "Join", "cancel", "Cancel"] });
      expect(server.asked[0]!.body).toContain(revision);
      expect(JSON.parse(await configText()).networks).toEqual({});
    } finally {
      bus.disconnect();
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

  it("a Join on the desktop notification joins, as the link handler does", async () => {
    const second = await createNetworkFlake();
    await second.commit(`desktop-${run}`);
    const bus: MessageBus = sessionBus({ busAddress: stack.env.DBUS_SESSION_BUS_ADDRESS! });
    const server = new AnsweringNotifications("join");
    bus.export("/org/freedesktop/Notifications", server);
    await bus.requestName("org.freedesktop.Notifications", 0);
    try {
      const result = await clanctl(["join", "--from-desktop", "--name", "desk", `clan://git+file//${second.dir}#default`], stack.env);
      expect(result.exitCode, result.all).toBe(0);
      expect(server.asked[0]!.body).toContain('repaired:  added the ":" that browsers drop after "git+file"');
      expect(JSON.parse(await configText()).networks.desk).toMatchObject({ workspaces: ["3:desk"], source: { flake: `git+file://${second.dir}` } });
      expect((await stack.session.getNetwork("desk")).vmState).toBe("running");
    } finally {
      bus.disconnect();
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
  it("handles clan: and nix: links with clanctl join --from-desktop", async () => {
    const text = await readFile(new URL("../../share/applications/clan-desktop-join.desktop", import.meta.url), "utf8");
    expect(text).toMatch(/^MimeType=x-scheme-handler\/clan;x-scheme-handler\/nix;$/m);
    expect(text).toMatch(/^Exec=clanctl join --from-desktop %u$/m);
  });
});
