import { describe, expect, it } from "vitest";
import { FIRST_RETRY_MS } from "../../src/session/reconciler.js";
import { BASE_CONFIG, OPERATION_MS, reconcilerRig, settle, type ReconcilerRig } from "./reconciler-fakes.js";

// The reconciler driven through orderings of focus, VM transitions, clan-vmd leaving and returning, config
// reloads and restarts, on a fake clock and a scripted fake clan-vmd (reconciler-fakes.ts). Each test checks
// where the VMs end up, and that no two operations on one network ever overlapped.

const DEBOUNCE = 150;
const BOOTED = OPERATION_MS.start + 10;

function networkConfig(name: keyof typeof BASE_CONFIG.networks) {
  return BASE_CONFIG.networks[name]!;
}

async function bootFocused(rig: ReconcilerRig, workspace: string, network: string): Promise<void> {
  rig.focus(workspace);
  await rig.clock.advance(DEBOUNCE + BOOTED);
  expect(rig.vmd.state(network)).toBe("running");
}

function noOverlap(rig: ReconcilerRig): void {
  expect(rig.vmd.overlap).toBeUndefined();
}

describe("entering a network", () => {
  it("cold-starts a stopped VM only once the workspace has stayed focused for the debounce time", async () => {
    const rig = reconcilerRig();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE - 1);
    expect(rig.vmd.calls).toEqual([]);
    await rig.clock.advance(1);
    expect(rig.vmd.calls).toEqual(["start family"]);
    await rig.clock.advance(BOOTED);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "running", focused: true, error: "" });
  });

  it("passing through a workspace on the way to another boots nothing", async () => {
    const rig = reconcilerRig();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE - 1);
    rig.focus("1");
    await rig.clock.advance(60_000);
    expect(rig.vmd.calls).toEqual([]);
  });

  it("resumes a paused VM within the focus call itself, without waiting for any timer", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("family", "paused") });
    rig.focus("1");
    rig.focus("2:family");
    expect(rig.vmd.calls).toEqual(["resume family"]);
    await settle();
    await rig.clock.advance(OPERATION_MS.resume);
    expect(rig.vmd.state("family")).toBe("running");
  });

  it("a storm of 100 switches at 10 ms between a paused and a stopped network resumes one, starts and stops none", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("family", "paused") });
    rig.focus("1");
    for (let i = 0; i < 100; i++) {
      rig.focus(i % 2 === 0 ? "3:club" : "2:family");
      await rig.clock.advance(10);
    }
    await rig.clock.advance(10_000);
    expect(rig.vmd.calls.filter((call) => call.startsWith("start") || call.startsWith("stop"))).toEqual([]);
    expect(rig.vmd.state("family")).toBe("running");
    expect(rig.vmd.state("club")).toBe("stopped");
    noOverlap(rig);
  });
});

describe("leaving a network", () => {
  it("pauses after the debounce, not before", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.focus("1");
    await rig.clock.advance(DEBOUNCE - 1);
    expect(rig.vmd.calls).not.toContain("pause family");
    await rig.clock.advance(1 + OPERATION_MS.pause);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "paused", focused: false });
  });

  it("stops after afterSeconds, not before", async () => {
    const rig = reconcilerRig({ config: { ...BASE_CONFIG, networks: { ...BASE_CONFIG.networks, club: { ...networkConfig("club"), onLeave: { action: "stop", afterSeconds: 30 } } } } });
    await bootFocused(rig, "3:club", "club");
    rig.focus("1");
    await rig.clock.advance(29_999);
    expect(rig.vmd.state("club")).toBe("running");
    await rig.clock.advance(1 + OPERATION_MS.stop);
    expect(rig.vmd.state("club")).toBe("stopped");
  });

  it("keep leaves the VM running until stopWhenIdleMinutes have passed without a visit", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "4:work", "work");
    rig.focus("1");
    await rig.clock.advance(10 * 60_000 - 1);
    expect(rig.vmd.state("work")).toBe("running");
    await rig.clock.advance(1 + OPERATION_MS.stop);
    expect(rig.vmd.state("work")).toBe("stopped");
  });

  it("a visit in between starts the idle time again", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "4:work", "work");
    rig.focus("1");
    await rig.clock.advance(9 * 60_000);
    rig.focus("4:work");
    await rig.clock.advance(1000);
    rig.focus("1");
    await rig.clock.advance(9 * 60_000);
    expect(rig.vmd.state("work")).toBe("running");
    await rig.clock.advance(60_000 + OPERATION_MS.stop);
    expect(rig.vmd.state("work")).toBe("stopped");
  });

  for (const at of [300, 2000]) {
    it(`left ${at} ms into its boot, a VM that pauses on leave ends paused, unfocused`, async () => {
      const rig = reconcilerRig();
      rig.focus("2:family");
      await rig.clock.advance(DEBOUNCE + at);
      expect(rig.vmd.state("family")).toBe("starting");
      rig.focus("1");
      await rig.clock.advance(BOOTED + DEBOUNCE + OPERATION_MS.pause);
      expect(rig.registry.get("family")).toMatchObject({ vmState: "paused", focused: false });
      noOverlap(rig);
    });

    it(`left ${at} ms into its boot, a VM that stops on leave ends stopped`, async () => {
      const rig = reconcilerRig();
      rig.focus("3:club");
      await rig.clock.advance(DEBOUNCE + at);
      rig.focus("1");
      await rig.clock.advance(BOOTED + OPERATION_MS.stop + 10);
      expect(rig.vmd.state("club")).toBe("stopped");
      noOverlap(rig);
    });
  }

  it("a boot that someone else began is stopped at once when the network should stop", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("club", "starting") });
    rig.focus("1");
    await rig.clock.advance(DEBOUNCE + OPERATION_MS.stop);
    expect(rig.vmd.calls).toEqual(["stop club"]);
    expect(rig.vmd.state("club")).toBe("stopped");
  });

  it("leaving a network whose VM failed leaves it failed: nothing to pause", async () => {
    const rig = reconcilerRig();
    rig.vmd.failingBoots.add("family");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    rig.focus("1");
    await rig.clock.advance(10 * 60_000);
    expect(rig.vmd.calls).toEqual(["start family"]);
    expect(rig.vmd.state("family")).toBe("failed");
  });
});

describe("coming back", () => {
  it("while its VM is stopping: it ends running", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "3:club", "club");
    rig.focus("1");
    await rig.clock.advance(DEBOUNCE + OPERATION_MS.stop / 2);
    expect(rig.vmd.state("club")).toBe("stopping");
    rig.focus("3:club");
    await rig.clock.advance(OPERATION_MS.stop + DEBOUNCE + BOOTED);
    expect(rig.registry.get("club")).toMatchObject({ vmState: "running", focused: true });
    noOverlap(rig);
  });

  for (let away = 130; away <= 210; away += 10) {
    it(`after a ${away} ms visit elsewhere, while the leave's pause is in flight: it ends running`, async () => {
      const rig = reconcilerRig();
      await bootFocused(rig, "2:family", "family");
      rig.focus("1");
      await rig.clock.advance(away);
      rig.focus("2:family");
      await rig.clock.advance(OPERATION_MS.pause + OPERATION_MS.resume + 10);
      expect(rig.registry.get("family")).toMatchObject({ vmState: "running", focused: true });
      await rig.clock.advance(60_000);
      expect(rig.vmd.state("family")).toBe("running");
      noOverlap(rig);
    });
  }

  it("while it boots after a quick leave: the boot goes on and the VM runs, unpaused", async () => {
    const rig = reconcilerRig();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + 500);
    rig.focus("1");
    await rig.clock.advance(100);
    rig.focus("2:family");
    await rig.clock.advance(BOOTED + 60_000);
    expect(rig.vmd.state("family")).toBe("running");
    expect(rig.vmd.calls).toEqual(["start family"]);
  });
});

describe("clan-vmd leaving and returning", () => {
  it("a network left while clan-vmd was away is paused once it returns", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.vmdDown();
    expect(rig.registry.get("family")?.error).toBe("");
    rig.focus("1");
    await rig.clock.advance(60_000);
    expect(rig.vmd.state("family")).toBe("running");
    expect(rig.registry.get("family")?.error).toBe("cannot pause: clan-vmd is not running");
    rig.vmdUp();
    await rig.clock.advance(OPERATION_MS.pause);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "paused", error: "" });
  });

  it("a network focused while clan-vmd was away says why it cannot start, and starts once it returns", async () => {
    const rig = reconcilerRig();
    rig.vmdDown();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "unavailable", error: "cannot start: clan-vmd is not running" });
    rig.vmdUp();
    await rig.clock.advance(BOOTED);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "running", error: "" });
  });

  it("clan-vmd vanishing with a start in flight: the VM it re-adopts is running, and nothing starts twice", async () => {
    const rig = reconcilerRig();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + 1000);
    rig.vmdDown();
    await rig.clock.advance(BOOTED);
    rig.vmdUp();
    await rig.clock.advance(BOOTED);
    expect(rig.vmd.state("family")).toBe("running");
    expect(rig.vmd.calls).toEqual(["start family"]);
  });

  it("a VM stopped while clan-vmd was away, of a focused network, is started when it returns", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.vmdDown();
    rig.vmd.arrange("family", "stopped");
    rig.vmdUp();
    await rig.clock.advance(BOOTED);
    expect(rig.vmd.state("family")).toBe("running");
  });
});

describe("config membership", () => {
  it("at the start, a VM of a network the config no longer has is stopped, and the log says so", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("old", "running") });
    await rig.clock.advance(OPERATION_MS.stop);
    expect(rig.vmd.state("old")).toBe("stopped");
    expect(rig.logs.join("\n")).toMatch(/old: not in the config, so nothing would ever manage its VM: stopping it/);
  });

  it("a network removed by a reload while it boots is stopped once the boot ends", async () => {
    const rig = reconcilerRig();
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + 1000);
    const { family: _removed, ...rest } = BASE_CONFIG.networks;
    rig.reload({ ...BASE_CONFIG, networks: rest });
    await rig.clock.advance(BOOTED + OPERATION_MS.stop);
    expect(rig.vmd.state("family")).toBe("stopped");
    expect(rig.reconciler.focused).toBeUndefined();
    noOverlap(rig);
  });

  it("a reload that turns pause into stop while the pause is in flight ends stopped", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.focus("1");
    await rig.clock.advance(DEBOUNCE + OPERATION_MS.pause / 2);
    rig.reload({ ...BASE_CONFIG, networks: { ...BASE_CONFIG.networks, family: { ...networkConfig("family"), onLeave: { action: "stop", afterSeconds: 0 } } } });
    await rig.clock.advance(OPERATION_MS.pause + OPERATION_MS.stop);
    expect(rig.vmd.state("family")).toBe("stopped");
    noOverlap(rig);
  });

  it("a reload that gives the focused workspace to another network leaves the first and enters the second", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.reload({
      ...BASE_CONFIG,
      networks: { ...BASE_CONFIG.networks, family: { ...networkConfig("family"), workspaces: ["5:family"] }, club: { ...networkConfig("club"), workspaces: ["2:family"] } },
    });
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    expect(rig.vmd.state("family")).toBe("paused");
    expect(rig.registry.get("club")).toMatchObject({ vmState: "running", focused: true });
  });
});

describe("failures", () => {
  it("a VM that fails to boot is retried with a growing backoff, never in a loop", async () => {
    const rig = reconcilerRig();
    rig.vmd.failingBoots.add("family");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    expect(rig.registry.get("family")?.error).toMatch(/start failed/);
    await rig.clock.advance(FIRST_RETRY_MS - 20);
    expect(rig.vmd.calls).toEqual(["start family"]);
    await rig.clock.advance(10 * 60_000);
    const starts = rig.vmd.calls.filter((call) => call === "start family").length;
    // Waits of 2, 4, 8, ... s, each after a 3 s boot: 9 tries in ten minutes, not thousands.
    expect(starts).toBeGreaterThan(2);
    expect(starts).toBeLessThanOrEqual(10);
    noOverlap(rig);
  });

  it("focusing the network again is an explicit retry", async () => {
    const rig = reconcilerRig();
    rig.vmd.failingBoots.add("family");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    rig.vmd.failingBoots.delete("family");
    rig.focus("1");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    expect(rig.vmd.calls).toEqual(["start family", "start family"]);
    expect(rig.registry.get("family")).toMatchObject({ vmState: "running", error: "" });
  });

  it("a VM that crashes while focused is started again after the backoff, not at once", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    rig.vmd.crash("family");
    await rig.clock.advance(FIRST_RETRY_MS - 1);
    expect(rig.vmd.calls).toEqual(["start family"]);
    await rig.clock.advance(1 + BOOTED);
    expect(rig.vmd.state("family")).toBe("running");
  });
});

describe("explicit requests", () => {
  it("clanctl stop of the focused network holds until the network is left and entered again", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    const stopped = rig.reconciler.stop("family");
    await rig.clock.advance(OPERATION_MS.stop);
    await stopped;
    await rig.clock.advance(60_000);
    expect(rig.vmd.state("family")).toBe("stopped");
    rig.focus("1");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + BOOTED);
    expect(rig.vmd.state("family")).toBe("running");
  });

  it("clanctl start of an unfocused network resolves when it runs, and no leave policy pauses it", async () => {
    const rig = reconcilerRig();
    rig.focus("1");
    let done = false;
    void rig.reconciler.start("family").then(() => (done = true));
    await rig.clock.advance(OPERATION_MS.start - 1);
    expect(done).toBe(false);
    await rig.clock.advance(1);
    expect(done).toBe(true);
    await rig.clock.advance(60_000);
    expect(rig.vmd.state("family")).toBe("running");
  });

  it("clanctl pause while the VM boots pauses it once it runs, and resolves then", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "4:work", "work");
    rig.focus("2:family");
    await rig.clock.advance(DEBOUNCE + 100);
    let done = false;
    void rig.reconciler.pause("family").then(() => (done = true));
    await rig.clock.advance(OPERATION_MS.start);
    expect(done).toBe(false);
    await rig.clock.advance(OPERATION_MS.pause);
    expect(done).toBe(true);
    expect(rig.vmd.state("family")).toBe("paused");
  });

  it("a hold keeps the reconciler's hands off until it is released; then the VM converges", async () => {
    const rig = reconcilerRig();
    await bootFocused(rig, "2:family", "family");
    const release = rig.reconciler.hold("family");
    rig.focus("1");
    await rig.clock.advance(60_000);
    expect(rig.vmd.state("family")).toBe("running");
    release();
    await rig.clock.advance(OPERATION_MS.pause);
    expect(rig.vmd.state("family")).toBe("paused");
  });
});

describe("clan-sessiond starting", () => {
  it("does nothing to any VM until it knows which workspace is focused", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("family", "running") });
    await rig.clock.advance(60_000);
    expect(rig.vmd.calls).toEqual([]);
    rig.focus("2:family");
    await rig.clock.advance(60_000);
    expect(rig.vmd.calls).toEqual([]);
  });

  it("applies the leave policy to a VM left running by a session that ended before its leave timer", async () => {
    const rig = reconcilerRig({ arrange: (vmd) => vmd.arrange("family", "running") });
    rig.focus("3:club");
    await rig.clock.advance(DEBOUNCE + OPERATION_MS.pause);
    expect(rig.vmd.state("family")).toBe("paused");
  });

  it("nothing acts before begin(): events meanwhile are remembered and converge then", async () => {
    const rig = reconcilerRig({ begin: false });
    rig.focus("2:family");
    await rig.clock.advance(60_000);
    expect(rig.vmd.calls).toEqual([]);
    rig.reconciler.begin();
    await rig.clock.advance(BOOTED);
    expect(rig.vmd.state("family")).toBe("running");
  });
});

describe("any ordering converges", () => {
  // A small deterministic generator, so that a failure names a seed that reproduces it.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it("after random focus switches, clan-vmd restarts and crashes at random moments, every VM ends where policy says", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      const rig = reconcilerRig();
      const workspaces = ["1", "2:family", "3:club", "4:work"];
      for (let step = 0; step < 25; step++) {
        const roll = next();
        if (roll < 0.75) rig.focus(workspaces[Math.floor(next() * workspaces.length)]!);
        else if (roll < 0.85 && rig.vmd.up) rig.vmdDown();
        else if (roll < 0.95 && !rig.vmd.up) rig.vmdUp();
        else if (rig.vmd.state("family") === "running") rig.vmd.crash("family");
        await rig.clock.advance(Math.floor(next() * 4000));
      }
      if (!rig.vmd.up) rig.vmdUp();
      await rig.clock.advance(11 * 60_000);
      const focused = rig.reconciler.focused;
      const context = `seed ${seed}, focused ${focused}, calls ${rig.vmd.calls.join(", ")}`;
      expect(rig.vmd.overlap, context).toBeUndefined();
      if (focused) expect(rig.vmd.state(focused), context).toBe("running");
      if (focused !== "family") expect(["paused", "stopped", "failed"], context).toContain(rig.vmd.state("family"));
      if (focused !== "club") expect(rig.vmd.state("club"), context).toBe("stopped");
      if (focused !== "work") expect(rig.vmd.state("work"), context).toBe("stopped");
    }
  });
});
