import { ClanError } from "../../src/shared/errors.js";
import type { VmState, VmStatus } from "../../src/shared/vm-api.js";
import type { Clock } from "../../src/session/clock.js";
import { ConfigSchema, type Config, type ConfigInput } from "../../src/session/config/schema.js";
import { NetworkRegistry } from "../../src/session/network-registry.js";
import { Reconciler, type VmControl } from "../../src/session/reconciler.js";

// Fakes for the reconciler's unit tests: a clock the test moves by hand, and a scripted fake of clan-vmd whose
// operations take fake time, publish their transitions like clan-vmd's StateChanged signal, and can be made to
// fail, crash or disappear. The real clan-vmd is exercised by test/session/reconcile-sway.e2e.test.ts.

export class FakeClock implements Clock {
  private time = 1_000_000;
  private sequence = 0;
  private timers: { at: number; sequence: number; callback: () => void }[] = [];

  now(): number {
    return this.time;
  }

  after(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.time + delayMs, sequence: ++this.sequence, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.sequence - b.sequence)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every pending promise callback run (they chain: a few turns of the event loop). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
}

export const OPERATION_MS = { start: 3000, stop: 1000, pause: 150, resume: 5 };

interface Pending {
  reject: (error: Error) => void;
}

/** A scripted stand-in for clan-vmd: named as a fake, it never replaces the real one in the e2e tests. */
export class ScriptedFakeVmd implements VmControl {
  /** Every call the reconciler made, as "operation network". */
  readonly calls: string[] = [];
  /** Networks whose next boots fail (their VM ends `failed`). */
  readonly failingBoots = new Set<string>();
  /** Set when an operation on a network began before the previous one's outcome was published: the reconciler
   *  promises never to do that. */
  overlap: string | undefined;
  up = true;
  private readonly vms = new Map<string, VmStatus>();
  private readonly busy = new Set<string>();
  private readonly pending = new Set<Pending>();
  private readonly inProgress = new Set<() => void>();
  private readonly boots = new Map<string, { promise: Promise<VmStatus>; abort: () => void }>();

  constructor(
    private readonly clock: FakeClock,
    private readonly publish: (status: VmStatus) => void,
  ) {}

  state(network: string): VmState {
    return this.vms.get(network)?.state ?? "stopped";
  }

  list(): VmStatus[] {
    return [...this.vms.values()].map((vm) => ({ ...vm }));
  }

  /** Puts a VM in a state without an operation, as a VM left by an earlier session would be. */
  arrange(network: string, state: VmState): void {
    this.vms.set(network, { ...status(network, state), since: this.clock.now() });
  }

  /** QEMU died by itself. */
  crash(network: string): void {
    this.transition(network, "failed");
  }

  /** clan-vmd left the bus: calls in flight get no reply, and what they were doing ends the way a new clan-vmd
   *  re-adopts it (a boot that got far enough runs, a stop has stopped, a pause has paused). */
  goDown(): void {
    this.up = false;
    for (const pending of this.pending) pending.reject(new ClanError("Disconnected", "clan-vmd left the bus"));
    this.pending.clear();
    for (const finish of [...this.inProgress]) finish();
    this.busy.clear();
  }

  comeUp(): VmStatus[] {
    this.up = true;
    return this.list();
  }

  start(network: string): Promise<VmStatus> {
    return this.operation("start", network, () => {
      const state = this.state(network);
      if (state === "running") return Promise.resolve(this.current(network));
      if (state === "paused") return this.resumeNow(network);
      if (state === "stopping") return Promise.reject(new ClanError("Busy", `VM of ${network} is stopping`));
      const boot = this.boots.get(network);
      if (boot) return boot.promise;
      return this.boot(network);
    });
  }

  stop(network: string): Promise<VmStatus> {
    return this.operation("stop", network, () => {
      const state = this.state(network);
      if (state === "stopped" || state === "failed") {
        this.transition(network, "stopped");
        return Promise.resolve(this.current(network));
      }
      this.boots.get(network)?.abort();
      this.transition(network, "stopping");
      return this.later(OPERATION_MS.stop, () => {
        this.transition(network, "stopped");
        return this.current(network);
      });
    });
  }

  pause(network: string): Promise<VmStatus> {
    return this.operation("pause", network, () => {
      const state = this.state(network);
      if (state === "paused") return Promise.resolve(this.current(network));
      if (state !== "running") return Promise.reject(new ClanError("InvalidState", `cannot pause the VM of ${network}: it is ${state}`));
      // QMP `stop` takes a moment under load: the window in which a return used to be lost.
      return this.later(OPERATION_MS.pause, () => {
        if (this.state(network) === "running") this.transition(network, "paused");
        return this.current(network);
      });
    });
  }

  resume(network: string): Promise<VmStatus> {
    return this.operation("resume", network, () => this.resumeNow(network));
  }

  private resumeNow(network: string): Promise<VmStatus> {
    const state = this.state(network);
    if (state === "running") return Promise.resolve(this.current(network));
    if (state !== "paused") return Promise.reject(new ClanError("InvalidState", `cannot resume the VM of ${network}: it is ${state}`));
    return this.later(OPERATION_MS.resume, () => {
      if (this.state(network) === "paused") this.transition(network, "running");
      return this.current(network);
    });
  }

  private boot(network: string): Promise<VmStatus> {
    this.transition(network, "starting");
    let aborted = false;
    const promise = this.later(OPERATION_MS.start, () => {
      this.boots.delete(network);
      if (aborted) throw new ClanError("QemuFailed", "the boot was aborted by a stop");
      if (this.failingBoots.has(network)) {
        this.transition(network, "failed");
        throw new ClanError("QemuFailed", "start failed: the guest never reported ready");
      }
      this.transition(network, "running");
      return this.current(network);
    });
    this.boots.set(network, { promise, abort: () => (aborted = true) });
    return promise;
  }

  private current(network: string): VmStatus {
    return { ...(this.vms.get(network) ?? status(network, "stopped")) };
  }

  private operation(name: string, network: string, body: () => Promise<VmStatus>): Promise<VmStatus> {
    this.calls.push(`${name} ${network}`);
    if (!this.up) return Promise.reject(new ClanError("Disconnected", "clan-vmd is not on the bus"));
    if (this.busy.has(network)) this.overlap ??= `${name} ${network} while another operation on it was in flight`;
    this.busy.add(network);
    return new Promise<VmStatus>((resolve, reject) => {
      const pending: Pending = { reject };
      this.pending.add(pending);
      body().then(resolve, reject).finally(() => {
        this.pending.delete(pending);
        this.busy.delete(network);
      });
    });
  }

  private later(ms: number, body: () => VmStatus): Promise<VmStatus> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        cancel();
        this.inProgress.delete(finish);
        try {
          resolve(body());
        } catch (error) {
          reject(error as Error);
        }
      };
      const cancel = this.clock.after(ms, finish);
      this.inProgress.add(finish);
    });
  }

  private transition(network: string, state: VmState): void {
    const next = { ...status(network, state), since: this.clock.now() };
    this.vms.set(network, next);
    // A settled state is the outcome of whatever operation was running, published before its reply, as
    // clan-vmd's StateChanged signal is.
    if (state !== "starting" && state !== "stopping") this.busy.delete(network);
    if (this.up) this.publish({ ...next });
  }
}

function status(network: string, state: VmState): VmStatus {
  return {
    network,
    state,
    generation: state === "stopped" ? "" : `/generations/${network}`,
    pid: state === "stopped" || state === "failed" ? 0 : 4242,
    accelerator: "tcg",
    since: 0,
    error: state === "failed" ? "QEMU exited unexpectedly" : "",
    display: "none",
    displaySocket: "",
    waypipeSockets: [],
    vpnState: "none",
    vpnPeers: 0,
    vpnLastHandshake: 0,
  };
}

/** family pauses when left, club stops when left, work is kept but stops after 10 idle minutes. */
export const BASE_CONFIG: ConfigInput = {
  networks: {
    family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: "/profiles/family" } },
    club: { workspaces: ["3:club"], colour: "#b5462f", source: { profile: "/profiles/club" }, onLeave: { action: "stop", afterSeconds: 0 } },
    work: { workspaces: ["4:work"], colour: "#33aa33", source: { profile: "/profiles/work" }, onLeave: { action: "keep" }, stopWhenIdleMinutes: 10 },
  },
  switchDebounceMs: 150,
};

export interface ReconcilerRig {
  clock: FakeClock;
  vmd: ScriptedFakeVmd;
  registry: NetworkRegistry;
  reconciler: Reconciler;
  logs: string[];
  config: Config;
  focus(workspace: string): void;
  /** Applies a new config the way clan-sessiond does on a reload. */
  reload(input: ConfigInput): void;
  vmdDown(): void;
  vmdUp(): void;
}

/** A reconciler on a fake clock and a scripted fake clan-vmd, begun like clan-sessiond's start. */
export function reconcilerRig(options: { config?: ConfigInput; arrange?: (vmd: ScriptedFakeVmd) => void; begin?: boolean } = {}): ReconcilerRig {
  const clock = new FakeClock();
  const registry = new NetworkRegistry();
  const logs: string[] = [];
  let config = ConfigSchema.parse(options.config ?? BASE_CONFIG);
  registry.applyConfig(config);
  let vmd: ScriptedFakeVmd | undefined;
  const reconciler = new Reconciler({
    registry,
    vmd: () => (vmd?.up ? vmd : undefined),
    generationOf: (network) => `/profiles/${network}`,
    debounceMs: () => config.switchDebounceMs,
    clock,
    log: (message) => logs.push(message),
  });
  vmd = new ScriptedFakeVmd(clock, (status) => reconciler.vmStatus(status));
  options.arrange?.(vmd);
  const fake = vmd;
  reconciler.vmdListed(fake.list());
  if (options.begin ?? true) reconciler.begin();
  return {
    clock,
    vmd: fake,
    registry,
    reconciler,
    logs,
    get config() {
      return config;
    },
    focus: (workspace) => reconciler.workspaceFocused(workspace),
    reload(input) {
      config = ConfigSchema.parse(input);
      registry.applyConfig(config);
      reconciler.configApplied();
    },
    vmdDown() {
      fake.goDown();
      registry.markVmsUnavailable();
      reconciler.vmdVanished();
    },
    vmdUp() {
      reconciler.vmdListed(fake.comeUp());
    },
  };
}
