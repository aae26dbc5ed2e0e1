import { describe, expect, it } from "vitest";
import { figuresView } from "../../src/manager/figures-presentation.js";
import { MonitoringModel, monitoredNetwork, type MonitoringSession } from "../../src/manager/monitoring-model.js";
import type { VmFigures } from "../../src/shared/monitoring-api.js";
import { networkStatus } from "../bar/network-status.js";

// The window's monitoring without GTK: one watch at clan-sessiond only while shown with a running VM selected,
// ended on hide, on another network and when clan-sessiond goes; samples of other networks ignored; the graphs'
// figures from cumulative counters. The real daemons and the window: clan-manager-monitoring.e2e.test.ts.

function figures(network: string, sampledAt: number, cpuSeconds: number, extra: Partial<VmFigures> = {}): VmFigures {
  return {
    network,
    sampledAt,
    cpuSeconds,
    memoryBytes: 200 * 1024 * 1024,
    balloonBytes: -1,
    guestMemoryTotalBytes: -1,
    guestMemoryUsedBytes: -1,
    diskReadBytes: sampledAt,
    diskWriteBytes: 0,
    netReceivedBytes: 2 * sampledAt,
    netSentBytes: 0,
    problems: [],
    ...extra,
  };
}

class ScriptedMonitoringSession implements MonitoringSession {
  readonly calls: string[] = [];
  private listeners = new Set<(figures: VmFigures) => void>();
  private next = 0;
  consoleText = "";

  async watchFigures(name: string): Promise<string> {
    const id = `watch-${++this.next}`;
    this.calls.push(`watch ${name} ${id}`);
    return id;
  }

  async unwatchFigures(id: string): Promise<void> {
    this.calls.push(`unwatch ${id}`);
  }

  onFiguresSampled(listener: (figures: VmFigures) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async consoleLog(name: string): Promise<string> {
    this.calls.push(`console ${name}`);
    return this.consoleText;
  }

  emit(sample: VmFigures): void {
    for (const listener of this.listeners) listener(sample);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the monitoring model", () => {
  it("watches only while shown, with a network, and ends the watch on hide", async () => {
    const session = new ScriptedMonitoringSession();
    const model = new MonitoringModel(() => undefined);
    model.follow(session);
    model.showNetwork("family");
    await settle();
    expect(session.calls).toEqual([]);
    model.setShown(true);
    await settle();
    expect(session.calls).toEqual(["watch family watch-1"]);
    expect(model.view().watching).toBe(true);
    model.setShown(false);
    await settle();
    expect(session.calls).toEqual(["watch family watch-1", "unwatch watch-1"]);
    model.setShown(true);
    model.showNetwork("club");
    await settle();
    // The old watch ends once its id is known, which may be after the new one was asked for.
    expect(session.calls.slice(2).sort()).toEqual(["unwatch watch-2", "watch club watch-3", "watch family watch-2"]);
    model.showNetwork(undefined);
    await settle();
    expect(session.calls.slice(5)).toEqual(["unwatch watch-3"]);
    expect(model.view().watching).toBe(false);
  });

  it("keeps the samples of its network only, and forgets them for another", async () => {
    const session = new ScriptedMonitoringSession();
    const model = new MonitoringModel(() => undefined);
    model.follow(session);
    model.setShown(true);
    model.showNetwork("family");
    session.emit(figures("family", 1000, 1));
    session.emit(figures("club", 1500, 9));
    session.emit(figures("family", 2000, 1.5));
    expect(model.view().figures.graphs[0]!.summary).toBe("50.0 % of one core");
    expect(model.view().figures.graphs[2]!.summary).toBe("read 1000 B/s · written 0 B/s");
    expect(model.view().figures.graphs[3]!.summary).toBe("received 2.0 KiB/s · sent 0 B/s");
    model.showNetwork("club");
    expect(model.view().figures.graphs[0]!.summary).toBe("waiting for the first sample");
    // Samples while hidden (another client's watch) are not this window's.
    model.setShown(false);
    session.emit(figures("club", 3000, 1));
    expect(model.view().figures.graphs[0]!.summary).toBe("waiting for the first sample");
  });

  it("a clan-sessiond that went away took its watches with it; the next one gets a new one", async () => {
    const first = new ScriptedMonitoringSession();
    const second = new ScriptedMonitoringSession();
    const model = new MonitoringModel(() => undefined);
    model.follow(first);
    model.setShown(true);
    model.showNetwork("family");
    await settle();
    model.follow(undefined);
    model.follow(second);
    await settle();
    expect(first.calls).toEqual(["watch family watch-1"]);
    expect(second.calls).toEqual(["watch family watch-1"]);
  });

  it("reads the console log when asked, of the network shown", async () => {
    const session = new ScriptedMonitoringSession();
    session.consoleText = "init: ready\\x1b]0;owned\\x07";
    const model = new MonitoringModel(() => undefined);
    model.follow(session);
    model.showNetwork("family");
    expect(model.view().console).toBeUndefined();
    model.refreshConsole();
    await settle();
    expect(model.view().console).toEqual({ ok: true, value: "init: ready\\x1b]0;owned\\x07" });
    expect(session.calls).toEqual(["console family"]);
  });

  it("monitors the selected network only while its VM runs or is paused", () => {
    const networks = [networkStatus({ vmState: "running" }), networkStatus({ name: "club", vmState: "stopped" }), networkStatus({ name: "work", vmState: "paused" })];
    expect(monitoredNetwork(networks, "family")).toBe("family");
    expect(monitoredNetwork(networks, "club")).toBeUndefined();
    expect(monitoredNetwork(networks, "work")).toBe("work");
    expect(monitoredNetwork(networks, undefined)).toBeUndefined();
  });
});

describe("the graphs' figures", () => {
  it("skips a counter that went down (QEMU restarted) and a figure that is unknown", () => {
    const view = figuresView([
      figures("n", 0, 10),
      figures("n", 1000, 2),
      figures("n", 2000, 2.25, { netReceivedBytes: -1, netSentBytes: -1, problems: ["network: the guest agent's interface list is malformed"] }),
    ]);
    expect(view.graphs[0]!.lines[0]!.points).toEqual([{ age: 0, value: 25 }]);
    expect(view.graphs[0]!.scale).toBe(100);
    expect(view.graphs[1]!.summary).toBe("200.0 MiB resident in QEMU (the guest reports no figures)");
    expect(view.graphs[1]!.lines.map((line) => line.label)).toEqual(["QEMU resident"]);
    expect(view.graphs[3]!.summary).toBe("received 2.0 KiB/s · sent 0 B/s");
    expect(view.problems).toBe("network: the guest agent's interface list is malformed");
  });

  it("graphs the guest's used memory, labelled as its report, once the guest reports it", () => {
    const mib = 1024 * 1024;
    const view = figuresView([
      figures("n", 0, 0),
      figures("n", 1000, 0, { guestMemoryTotalBytes: 200 * mib, guestMemoryUsedBytes: 50 * mib }),
      figures("n", 2000, 0, { guestMemoryTotalBytes: 200 * mib, guestMemoryUsedBytes: 60 * mib }),
    ]);
    const memory = view.graphs[1]!;
    expect(memory.summary).toBe("60.0 MiB used of 200.0 MiB, as the guest reports · QEMU 200.0 MiB resident");
    expect(memory.lines).toEqual([{ label: "used (the guest's report)", points: [{ age: 1, value: 50 * mib }, { age: 0, value: 60 * mib }] }]);
    expect(memory.scale).toBe(200 * mib);
  });

  it("draws only the last 60 s, newest at age 0", () => {
    const samples = Array.from({ length: 90 }, (_, index) => figures("n", index * 1000, index * 0.1));
    const points = figuresView(samples).graphs[0]!.lines[0]!.points;
    expect(points.at(-1)).toEqual({ age: 0, value: expect.closeTo(10, 5) });
    expect(Math.max(...points.map((point) => point.age))).toBeLessThanOrEqual(60);
  });

  it("escapes what a problem says", () => {
    expect(figuresView([figures("n", 0, 0, { problems: ["\u001b[2Jcleared"] })]).problems).toBe("\\x1b[2Jcleared");
  });
});
