import { describe, expect, it } from "vitest";
import type { BarState } from "../../src/bar/model.js";
import { SessionFeed } from "../../src/bar/session-feed.js";
import { networkStatus } from "./network-status.js";
import { ScriptedNameWatch, ScriptedSession } from "./scripted-session.js";

function feedOf(session: ScriptedSession, watch: ScriptedNameWatch, connect = async () => session) {
  const states: BarState[] = [];
  const reports: string[] = [];
  const feed = new SessionFeed({ watch: watch.watch, connect, report: (message) => reports.push(message) });
  feed.on("state", (state) => states.push(state));
  const names = () => states.map((s) => (s.kind === "networks" ? s.networks.map((n) => `${n.name}:${n.vmState}`).join(",") : "missing"));
  return { feed, states, reports, names };
}

describe("the bar's feed from clan-sessiond", () => {
  it("starts with the network list, sorted, when clan-sessiond is on the bus", async () => {
    const session = new ScriptedSession([networkStatus({ name: "zeta" }), networkStatus({ name: "alpha" })]);
    const { feed, names } = feedOf(session, new ScriptedNameWatch(true));
    await feed.start();
    expect(names()).toEqual(["alpha:stopped,zeta:stopped"]);
    expect(feed.session).toBe(session);
  });

  it("starts with 'missing' when it is not, and follows it appearing, vanishing and appearing again", async () => {
    const session = new ScriptedSession([networkStatus()]);
    const watch = new ScriptedNameWatch(false);
    const { feed, names } = feedOf(session, watch);
    await feed.start();
    expect(names()).toEqual(["missing"]);
    expect(feed.session).toBeUndefined();
    await watch.appear();
    watch.vanish();
    expect(session.listenerCount).toBe(0);
    await watch.appear();
    expect(names()).toEqual(["missing", "family:stopped", "missing", "family:stopped"]);
  });

  it("applies every NetworkChanged signal, and re-reads the list on NetworksChanged", async () => {
    const session = new ScriptedSession([networkStatus()]);
    const { feed, names } = feedOf(session, new ScriptedNameWatch(true));
    await feed.start();
    session.emitChanged(networkStatus({ vmState: "running" }));
    session.emitNetworksChanged([networkStatus({ vmState: "running" }), networkStatus({ name: "club" })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(names()).toEqual(["family:stopped", "family:running", "club:stopped,family:running"]);
  });

  it("reports a malformed signal and keeps what it showed", async () => {
    const session = new ScriptedSession([networkStatus()]);
    const { feed, names, reports } = feedOf(session, new ScriptedNameWatch(true));
    await feed.start();
    session.emitInvalid("vmState: invalid option");
    expect(reports).toEqual(["ignoring a malformed NetworkChanged signal: vmState: invalid option"]);
    expect(names()).toEqual(["family:stopped"]);
  });

  it("drops the list of a connection that ended while it was being read", async () => {
    const session = new ScriptedSession([networkStatus()]);
    const watch = new ScriptedNameWatch(false);
    const { feed, names } = feedOf(session, watch);
    await feed.start();
    let release!: () => void;
    session.listGate = new Promise((resolve) => (release = resolve));
    const appearing = watch.appear();
    watch.vanish();
    release();
    await appearing;
    expect(names()).toEqual(["missing", "missing"]);
    expect(feed.session).toBeUndefined();
  });

  it("shows 'missing' and says why when clan-sessiond cannot be reached after all", async () => {
    const session = new ScriptedSession([]);
    const { feed, names, reports } = feedOf(session, new ScriptedNameWatch(true), async () => {
      throw new Error("introspection failed");
    });
    await feed.start();
    expect(names()).toEqual(["missing", "missing"]);
    expect(reports).toEqual(["cannot follow clan-sessiond: introspection failed"]);
  });
});
