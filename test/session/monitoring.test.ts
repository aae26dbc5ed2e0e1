import { afterEach, describe, expect, it, vi } from "vitest";
import type { BuildLogLines, VmFigures } from "../../src/shared/monitoring-api.js";
import { BUILD_LOG_BATCH_MS, BuildLogBatches } from "../../src/session/build-log-batches.js";
import { FIGURES_INTERVAL_MS, FiguresWatch } from "../../src/session/figures-watch.js";

// The figures watches (sampling only while watched, per caller, ended when the caller leaves) and the batching of
// build-log lines, with a hand-driven timer and vitest's fake clock: nothing here waits.

function sample(network: string): VmFigures {
  return { network, sampledAt: 0, cpuSeconds: 1, memoryBytes: 2, balloonBytes: -1, guestMemoryTotalBytes: -1, guestMemoryUsedBytes: -1, diskReadBytes: 3, diskWriteBytes: 4, netReceivedBytes: 5, netSentBytes: 6, problems: [] };
}

function watchHarness(measure: (network: string) => Promise<VmFigures> = async (network) => sample(network)) {
  const timers: { ms: number; run: () => void; stopped: boolean }[] = [];
  const published: VmFigures[] = [];
  const measured: string[] = [];
  const watch = new FiguresWatch({
    measure: (network) => {
      measured.push(network);
      return measure(network);
    },
    publish: (figures) => published.push(figures),
    now: () => 42,
    log: () => undefined,
    every: (ms, run) => {
      const timer = { ms, run, stopped: false };
      timers.push(timer);
      return () => {
        timer.stopped = true;
      };
    },
  });
  const tick = () => timers.filter((timer) => !timer.stopped).forEach((timer) => timer.run());
  return { watch, timers, published, measured, tick };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("figure watches", () => {
  it("samples a network once a second only while someone watches it", async () => {
    const { watch, timers, published, measured, tick } = watchHarness();
    expect(timers).toHaveLength(0);
    const first = watch.watch("family", ":1.5");
    const second = watch.watch("family", ":1.6");
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(FIGURES_INTERVAL_MS);
    await settle();
    tick();
    await settle();
    expect(measured).toEqual(["family", "family"]);
    expect(published.map((figures) => figures.network)).toEqual(["family", "family"]);
    watch.unwatch(first, ":1.5");
    expect(timers[0]!.stopped).toBe(false);
    watch.unwatch(second, ":1.6");
    expect(timers[0]!.stopped).toBe(true);
    expect(watch.sampledNetworks()).toEqual([]);
  });

  it("ends a caller's watches when it leaves the bus, and only its own", () => {
    const { watch, timers } = watchHarness();
    watch.watch("family", ":1.5");
    watch.watch("club", ":1.5");
    const other = watch.watch("club", ":1.9");
    watch.ownerGone(":1.5");
    expect(watch.sampledNetworks()).toEqual(["club"]);
    expect(timers.filter((timer) => !timer.stopped)).toHaveLength(1);
    expect(() => watch.unwatch(other, ":1.5")).toThrow(/no figure watch/);
    watch.unwatch(other, ":1.9");
    expect(watch.sampledNetworks()).toEqual([]);
  });

  it("refuses a caller more than 8 watches", () => {
    const { watch } = watchHarness();
    for (let index = 0; index < 8; index++) watch.watch(`n${index}`, ":1.7");
    expect(() => watch.watch("n9", ":1.7")).toThrow(expect.objectContaining({ code: "OverLimit" }));
    expect(() => watch.watch("n9", ":1.8")).not.toThrow();
  });

  it("publishes a sample that could not be taken as its reason, escaped, and does not pile calls up", async () => {
    let answer: (figures: VmFigures) => void = () => undefined;
    const { watch, published, measured, tick } = watchHarness(
      (network) =>
        network === "slow"
          ? new Promise((resolve) => {
              answer = resolve;
            })
          : Promise.reject(new Error("VM of broken is stopped \u001b[31m")),
    );
    watch.watch("broken", ":1.5");
    await settle();
    expect(published[0]).toMatchObject({ network: "broken", cpuSeconds: -1, netSentBytes: -1, sampledAt: 42, problems: ["VM of broken is stopped \\x1b[31m"] });
    watch.watch("slow", ":1.5");
    tick();
    tick();
    expect(measured.filter((network) => network === "slow")).toHaveLength(1);
    answer(sample("slow"));
    await settle();
    tick();
    expect(measured.filter((network) => network === "slow")).toHaveLength(2);
  });

  it("drops a sample that arrives after its last watch ended", async () => {
    let answer: (figures: VmFigures) => void = () => undefined;
    const { watch, published } = watchHarness(() => new Promise((resolve) => (answer = resolve)));
    const id = watch.watch("family", ":1.5");
    watch.unwatch(id, ":1.5");
    answer(sample("family"));
    await settle();
    expect(published).toEqual([]);
  });
});

describe("build-log batches", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends the lines of each network at most every 250 ms, the first batch of a build marked", () => {
    vi.useFakeTimers();
    const sent: BuildLogLines[] = [];
    const batches = new BuildLogBatches((batch) => sent.push(batch));
    batches.started("family");
    batches.line("family", "fetching");
    batches.line("family", "building \u001b]0;title\u0007");
    batches.line("club", "other");
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(BUILD_LOG_BATCH_MS);
    expect(sent).toEqual([
      { network: "family", lines: ["fetching", "building \u001b]0;title\u0007"], first: true },
      { network: "club", lines: ["other"], first: false },
    ]);
    batches.line("family", "done");
    vi.advanceTimersByTime(BUILD_LOG_BATCH_MS - 1);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent[2]).toEqual({ network: "family", lines: ["done"], first: false });
    vi.advanceTimersByTime(10 * BUILD_LOG_BATCH_MS);
    expect(sent).toHaveLength(3);
  });

  it("sends what waits when asked (before BuildLog answers), and keeps at most 400 lines", () => {
    vi.useFakeTimers();
    const sent: BuildLogLines[] = [];
    const batches = new BuildLogBatches((batch) => sent.push(batch));
    for (let index = 0; index < 1000; index++) batches.line("family", `line ${index}`);
    batches.flush("family");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.lines).toHaveLength(400);
    expect(sent[0]!.lines[0]).toBe("line 600");
    vi.advanceTimersByTime(BUILD_LOG_BATCH_MS);
    expect(sent).toHaveLength(1);
  });
});
