import { describe, expect, it } from "vitest";
import { BarRunner } from "../../src/bar/bar-runner.js";
import { i3barFormat } from "../../src/bar/i3bar-format.js";
import { SessionFeed } from "../../src/bar/session-feed.js";
import { networkStatus } from "./network-status.js";
import { ScriptedNameWatch, ScriptedSession } from "./scripted-session.js";

async function runningBar(present = true) {
  const session = new ScriptedSession([networkStatus(), networkStatus({ name: "club", colour: "#b5462f" })]);
  const watch = new ScriptedNameWatch(present);
  const written: string[] = [];
  const reports: string[] = [];
  const report = (message: string) => reports.push(message);
  const feed = new SessionFeed({ watch: watch.watch, connect: async () => session, report });
  const runner = new BarRunner({ format: i3barFormat(), feed, write: (text) => written.push(text), report });
  runner.start();
  await feed.start();
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { session, watch, written, reports, runner, settle };
}

describe("the running bar", () => {
  it("writes the preamble, then one framed line per changed status, and nothing for an unchanged one", async () => {
    const { session, written } = await runningBar();
    session.emitChanged(networkStatus({ vmState: "running" }));
    session.emitChanged(networkStatus({ vmState: "running" }));
    expect(written).toHaveLength(3);
    expect(written[0]).toBe('{"version":1,"click_events":true}\n[\n');
    expect(written[1]).toMatch(/^\[\{"name":"clan-desktop","instance":"club"/);
    expect(written[2]).toMatch(/^,\[.*"instance":"family".*●/);
  });

  it("turns clicks into calls on clan-sessiond: left Switch, middle a rebuild job, right a rollback job (-1)", async () => {
    const { session, runner, reports, settle } = await runningBar();
    runner.clickInput('[\n{"name":"clan-desktop","instance":"family","button":1}\n,{"name":"clan-desktop","instance":"club","button":2}\n');
    runner.clickInput(',{"name":"clan-desktop","instance":"club","button":3}\n,{"name":"clan-desktop","instance":"club","button":5}\n');
    await settle();
    expect(session.calls).toEqual(['Switch("family")', 'StartRebuild("club")', 'StartRollback("club", -1)']);
    expect(reports).toEqual([]);
  });

  it("reports a method clan-sessiond does not offer, and malformed clicks, and keeps running", async () => {
    const { session, runner, reports, settle } = await runningBar();
    session.missingMethods.add("StartRebuild");
    runner.clickInput('{"name":"clan-desktop","instance":"club","button":2}\n{"button":\n');
    runner.clickInput('{"name":"clan-desktop","instance":"club","button":1}\n');
    await settle();
    expect(reports).toEqual([
      expect.stringMatching(/^ignoring click input: not JSON/),
      "Rebuild club failed: clan-sessiond does not offer StartRebuild: is it an older version?",
    ]);
    expect(session.calls).toEqual(['Switch("club")']);
  });

  it("says that clan-sessiond is not running when a click comes while it is missing", async () => {
    const { runner, reports, written } = await runningBar(false);
    expect(written[1]).toContain("clan-sessiond not running");
    runner.clickInput('{"name":"clan-desktop","instance":"family","button":1}\n');
    expect(reports).toEqual(["Switch family: clan-sessiond is not running"]);
  });
});
