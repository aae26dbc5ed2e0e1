import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BarFormatName } from "../../src/bar/bar-format.js";
import { BarServer } from "../../src/bar/bar-server.js";
import { barFormat } from "../../src/bar/formats.js";
import type { BarState } from "../../src/bar/model.js";
import { BAR_RELAY, spawnBar } from "../helpers/bar-process.js";
import { waitUntil } from "../helpers/daemons.js";
import { childPids, hasBinary, skipReason } from "../helpers/processes.js";
import { networkStatus } from "./network-status.js";

// bin/clan-bar-relay, the bar's process: sh and socat (and cat for clicks), against a BarServer in this process
// standing in for clan-sessiond's socket. What the relay writes itself must be what the formats in src/bar/ write;
// it must show clan-sessiond missing and come back with it; and it must leave no process behind.

const needs = ["socat"];

describe.skipIf(!needs.every(hasBinary))(`clan-bar-relay ${skipReason(...needs)}`, () => {
  let dir: string;
  const socketPath = () => join(dir, "run", "bar.sock");
  const state: BarState = { kind: "networks", networks: [networkStatus()] };
  const listen = () =>
    BarServer.listen({
      socketPath: socketPath(),
      state: () => state,
      actions: { switchTo: async () => undefined, startRebuild: async () => "job", startRollback: async () => "job", openManager: async () => undefined },
      report: () => undefined,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-bar-relay-"));
    await execa("mkdir", ["-m", "0700", join(dir, "run")]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each<BarFormatName>(["i3bar", "waybar", "i3blocks"])("writes the same opening and 'not running' line as the %s format", async (name) => {
    const format = barFormat(name, undefined);
    const bar = spawnBar(name, undefined, { CLAN_BAR_SOCKET: join(dir, "nobody-here.sock") });
    try {
      await bar.waitForLine((line) => line.includes("clan-sessiond not running"), "the not-running line");
      // i3bar's stream opens with an empty status, so that every status clan-sessiond sends follows with its comma.
      const opening = name === "i3bar" ? format.preamble + format.frame("[]", true) : "";
      expect(bar.lines.map((line) => `${line}\n`).join("")).toBe(opening + format.frame(format.render({ kind: "sessiond-missing" }), false));
      expect(bar.stderr()).toMatch(/clan-sessiond not running \(no connection at .*nobody-here\.sock\)/);
    } finally {
      await bar.stop();
    }
  });

  it("shows clan-sessiond missing when its socket goes, and its networks again when it is back", async () => {
    let server = await listen();
    const bar = spawnBar("i3bar", undefined, { CLAN_BAR_SOCKET: socketPath() });
    try {
      await bar.waitForLine((line) => line.includes('"instance":"family"'), "the networks");
      const relayPid = bar.process.pid!;
      expect((await childPids(relayPid)).length).toBe(2);
      await server.close();
      const from = bar.lines.length;
      await bar.waitForLine((line) => line.includes("clan-sessiond not running"), "the not-running line", from);
      server = await listen();
      await bar.waitForLine((line) => line.includes('"instance":"family"'), "the networks again", from);
      // Every line after the opening continues the i3bar array: a comma, then a status.
      expect(bar.lines.slice(3).every((line) => line.startsWith(",["))).toBe(true);
    } finally {
      await bar.stop();
      await server.close();
    }
  });

  it("passes on a SIGTERM to its socat and cat, and exits when the bar closes its click pipe", async () => {
    const server = await listen();
    try {
      const stopped = spawnBar("i3blocks", "family", { CLAN_BAR_SOCKET: socketPath() });
      await stopped.waitForLine((line) => line.includes('"instance":"family"'), "the block");
      const helpers = await childPids(stopped.process.pid!);
      expect(helpers.length).toBe(2);
      stopped.process.kill("SIGTERM");
      await stopped.process;
      await waitUntil(() => (helpers.every((pid) => !processExists(pid)) ? true : undefined), "socat and cat to end with the relay");

      const closing = spawnBar("i3bar", undefined, { CLAN_BAR_SOCKET: socketPath() });
      await closing.waitForLine((line) => line.includes('"instance":"family"'), "the networks");
      closing.process.stdin!.end();
      const result = await closing.process;
      expect(result.exitCode).toBe(0);
      expect(closing.stderr()).toContain("the bar closed its click pipe: exiting");
    } finally {
      await server.close();
    }
  });

  it("refuses an unknown format or an invalid network name before connecting", async () => {
    const format = await execa(BAR_RELAY, ["lemonbar"], { reject: false, env: { CLAN_BAR_SOCKET: socketPath() } });
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toContain('the format must be i3bar, waybar or i3blocks, not "lemonbar"');
    const name = await execa(BAR_RELAY, ["waybar", 'x","format":"i3bar'], { reject: false, env: { CLAN_BAR_SOCKET: socketPath() } });
    expect(name.exitCode).toBe(2);
    expect(name.stderr).toContain("invalid network name");
  });
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
