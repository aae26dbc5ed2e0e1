import { ClanError, errorMessage } from "../shared/errors.js";
import type { VmStartOptions, VmState, VmStatus } from "../shared/vm-api.js";
import type { Clock } from "./clock.js";
import { vmStartOptions, type NetworkConfig } from "./config/schema.js";
import type { NetworkRegistry } from "./network-registry.js";
import { desiredVm, nextOperation, type ExplicitWish, type VmOperation } from "./vm-policy.js";
import { traceHop } from "../shared/hop-trace.js";

// Drives every network's VM towards what the user wants (vm-policy.ts) from what clan-vmd reports, whenever
// either side changes: focus, a VM's status, clan-vmd or the window manager (re)appearing, a config reload,
// clan-sessiond's start, and the moments at which a debounce, a leave policy or a backoff comes due. It keeps at
// most one operation in flight per network and looks again when it completes, so no order of events can leave
// a VM in the wrong state — the way level-triggered controllers converge. Entering a network whose VM is paused
// resumes it within the focus event's own call: that is the hot path of a workspace switch.

export interface VmControl {
  start(network: string, generation: string, options: VmStartOptions): Promise<VmStatus>;
  stop(network: string): Promise<VmStatus>;
  pause(network: string): Promise<VmStatus>;
  resume(network: string): Promise<VmStatus>;
}

export interface ReconcilerOptions {
  registry: NetworkRegistry;
  /** clan-vmd, or undefined while it is not on the bus. */
  vmd: () => VmControl | undefined;
  generationOf: (network: string, config: NetworkConfig) => string;
  debounceMs: () => number;
  clock: Clock;
  log: (message: string) => void;
}

/** A failed operation, or a VM that failed or stopped by itself, is retried after these delays (doubling). */
export const FIRST_RETRY_MS = 2000;
const LAST_RETRY_MS = 5 * 60_000;

interface Visit {
  focused: boolean;
  since: number;
  explicit?: ExplicitWish;
}

interface Failures {
  count: number;
  retryAt: number;
}

const VMD_ABSENT = "clan-vmd is not running";

/** The state an operation ends in when it succeeds. */
const OUTCOME: Record<VmOperation, VmState> = { start: "running", resume: "running", pause: "paused", stop: "stopped" };

export class Reconciler {
  private focusedNetwork: string | undefined;
  /** When the first focus report arrived; until then no leave policy applies (focus is unknown). */
  private focusKnownAt: number | undefined;
  private readonly visits = new Map<string, Visit>();
  /** What clan-vmd last reported per network (kept while it is away: a new clan-vmd re-adopts the VMs). */
  private readonly observed = new Map<string, { state: VmState; since: number }>();
  /** The operation of each network whose outcome clan-vmd has not reported yet. */
  private readonly inFlight = new Map<string, { operation: VmOperation }>();
  private readonly failures = new Map<string, Failures>();
  private readonly reviews = new Map<string, { at: number; cancel: () => void }>();
  private readonly held = new Set<string>();
  /** Networks whose error says clan-vmd is missing: cleared once it is back. */
  private readonly waitingForVmd = new Set<string>();
  private readonly settledWaiters = new Map<string, (() => void)[]>();
  private started = false;
  private closed = false;

  constructor(private readonly options: ReconcilerOptions) {}

  get focused(): string | undefined {
    return this.focusedNetwork;
  }

  /** Called once clan-sessiond has read its config, clan-vmd's VMs and the focused workspace. */
  begin(): void {
    this.started = true;
    this.reconcileAll();
  }

  workspaceFocused(workspace: string): void {
    const { registry, clock } = this.options;
    const now = clock.now();
    const entered = registry.networkOfWorkspace(workspace);
    const left = this.focusedNetwork;
    const firstReport = this.focusKnownAt === undefined;
    this.focusKnownAt ??= now;
    this.focusedNetwork = entered;
    if (left !== entered) {
      if (entered !== undefined) {
        this.visits.set(entered, { focused: true, since: now });
        // Entering is an explicit retry of a VM that failed.
        this.failures.delete(entered);
        // The resume goes out before the focus is published: publishing sends signals, which takes a moment.
        this.reconcile(entered);
        registry.update(entered, { focused: true });
      }
      if (left !== undefined) {
        this.visits.set(left, { focused: false, since: now });
        registry.update(left, { focused: false });
        this.reconcile(left);
      }
    }
    if (firstReport) this.reconcileAll();
  }

  /** A status from clan-vmd (a signal, or the reply of an operation someone else made). */
  vmStatus(status: VmStatus): void {
    this.observe(status);
    if (this.options.registry.config(status.network)) this.reconcile(status.network);
  }

  /** clan-vmd (re)appeared and listed its VMs: every network is compared again, VMs of no network stopped. */
  vmdListed(statuses: VmStatus[]): void {
    this.observed.clear();
    // Calls that failed because clan-vmd was gone say nothing about the VMs: a new clan-vmd is a fresh chance.
    this.failures.clear();
    for (const status of statuses) this.observe(status);
    this.reconcileAll();
  }

  vmdVanished(): void {
    this.reconcileAll();
  }

  /** The config was applied: forget removed networks' visits, then compare everything (orphans included). */
  configApplied(): void {
    const { registry } = this.options;
    for (const name of new Set([...this.visits.keys(), ...this.failures.keys(), ...this.reviews.keys()])) {
      if (registry.config(name)) continue;
      this.visits.delete(name);
      this.failures.delete(name);
      this.cancelReview(name);
    }
    if (this.focusedNetwork !== undefined && !registry.config(this.focusedNetwork)) this.focusedNetwork = undefined;
    this.reconcileAll();
  }

  /** Explicit requests (clanctl, the bar, GNOME) act at once and hold until focus next enters or leaves the
   *  network; each resolves when the VM got there or the attempt failed (the network's error says why). */
  start(network: string): Promise<void> {
    return this.request(network, "running");
  }

  stop(network: string): Promise<void> {
    return this.request(network, "stopped");
  }

  pause(network: string): Promise<void> {
    return this.request(network, "paused");
  }

  /** Keeps the reconciler's hands off the network's VM — a restore or a rebuild stops and starts it itself —
   *  until the returned function is called; then it is compared again. */
  hold(network: string): () => void {
    this.held.add(network);
    return () => {
      this.held.delete(network);
      this.reconcile(network);
    };
  }

  close(): void {
    this.closed = true;
    for (const name of [...this.reviews.keys()]) this.cancelReview(name);
    for (const name of [...this.settledWaiters.keys()]) this.settle(name);
  }

  private request(network: string, wish: ExplicitWish): Promise<void> {
    const visit = this.visits.get(network) ?? this.defaultVisit(network);
    this.visits.set(network, { ...visit, explicit: wish });
    this.failures.delete(network);
    const settled = new Promise<void>((resolve) => {
      const waiters = this.settledWaiters.get(network) ?? [];
      waiters.push(resolve);
      this.settledWaiters.set(network, waiters);
    });
    this.reconcile(network);
    return settled;
  }

  private reconcileAll(): void {
    const names = new Set([...this.options.registry.names(), ...this.observed.keys()]);
    for (const name of names) this.reconcile(name);
  }

  private reconcile(network: string): void {
    if (!this.started || this.closed) {
      this.settle(network);
      return;
    }
    const { registry, clock } = this.options;
    const config = registry.config(network);
    const now = clock.now();
    const vms = this.options.vmd();
    const observed = this.observed.get(network)?.state ?? "stopped";
    const visit = this.visits.get(network) ?? this.defaultVisit(network);
    const desired = desiredVm({
      policy: config && { onLeave: config.onLeave, stopWhenIdleMinutes: config.stopWhenIdleMinutes },
      focusKnown: this.focusKnownAt !== undefined,
      focused: visit.focused,
      since: visit.since,
      explicit: visit.explicit,
      observed,
      debounceMs: this.options.debounceMs(),
      now,
    });
    if (this.held.has(network) || this.awaitingOutcome(network, observed)) {
      // Looked at again when the hold is released or the operation's outcome is reported.
      this.scheduleReview(network, desired.reviewAt);
      if (this.held.has(network)) this.settle(network);
      return;
    }
    const operation = nextOperation(desired.goal, observed);
    if (!vms) {
      // What clan-vmd last reported stands until it is back (it re-adopts its VMs); what needs doing is done then.
      this.scheduleReview(network, desired.reviewAt);
      if (config && operation !== undefined && operation !== "wait") {
        this.waitingForVmd.add(network);
        registry.update(network, { error: `cannot ${operation}: ${VMD_ABSENT}` });
      }
      this.settle(network);
      return;
    }
    if (this.waitingForVmd.delete(network)) registry.update(network, { error: "" });
    if (operation === undefined || operation === "wait") {
      this.scheduleReview(network, desired.reviewAt);
      if (operation === undefined) this.settle(network);
      return;
    }
    const failure = this.failures.get(network);
    if (failure && failure.retryAt > now) {
      this.scheduleReview(network, Math.min(failure.retryAt, desired.reviewAt ?? Infinity));
      this.settle(network);
      return;
    }
    this.scheduleReview(network, desired.reviewAt);
    if (!config) this.options.log(`${network}: not in the config, so nothing would ever manage its VM: stopping it`);
    this.execute(network, operation, vms, config);
  }

  private execute(network: string, operation: VmOperation, vms: VmControl, config: NetworkConfig | undefined): void {
    const { registry, log } = this.options;
    const entry = { operation };
    this.inFlight.set(network, entry);
    traceHop?.(`${operation}-called`, network);
    const call = operation === "start" ? this.startCall(network, vms, config) : vms[operation](network);
    void call
      .then(
        (status) => {
          this.observe(status);
          if (status.state === "failed") this.recordFailure(network);
          else {
            this.failures.delete(network);
            registry.update(network, { error: "" });
          }
        },
        (error: unknown) => {
          // A network clan-vmd never ran has nothing to stop.
          if (operation === "stop" && error instanceof ClanError && error.code === "UnknownNetwork") return;
          const message = `${operation} failed: ${errorMessage(error)}`;
          log(`${network}: ${message}`);
          registry.update(network, { error: message });
          this.recordFailure(network);
        },
      )
      .finally(() => {
        if (this.inFlight.get(network) !== entry) return;
        this.inFlight.delete(network);
        this.reconcile(network);
      });
  }

  /**
   * Whether the network's last operation has not shown its outcome yet. Its StateChanged signal usually comes a
   * moment before its reply: the next operation (a resume right after a pause, when the user came back) goes out
   * on the signal, without waiting for the reply — the hot path of a switch back.
   */
  private awaitingOutcome(network: string, observed: VmState): boolean {
    const entry = this.inFlight.get(network);
    return entry !== undefined && OUTCOME[entry.operation] !== observed;
  }

  private startCall(network: string, vms: VmControl, config: NetworkConfig | undefined): Promise<VmStatus> {
    if (!config) return Promise.reject(new ClanError("UnknownNetwork", `no network named ${network} in the config`));
    return vms.start(network, this.options.generationOf(network, config), vmStartOptions(config));
  }

  private observe(status: VmStatus): void {
    const before = this.observed.get(status.network);
    // An operation's reply can be handled after a newer signal: the older news is dropped.
    if (before && status.since < before.since) return;
    this.observed.set(status.network, { state: status.state, since: status.since });
    this.options.registry.applyVmStatus(status);
    // A VM that failed or stopped by itself is started again only after a backoff, never in a loop.
    const ended = status.state === "failed" || status.state === "stopped";
    const hadProcess = before?.state === "starting" || before?.state === "running" || before?.state === "paused";
    const ours = this.inFlight.has(status.network) || this.held.has(status.network);
    if (ended && hadProcess && !ours) this.recordFailure(status.network);
  }

  private recordFailure(network: string): void {
    const count = (this.failures.get(network)?.count ?? 0) + 1;
    const delay = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(count - 1, 20));
    this.failures.set(network, { count, retryAt: this.options.clock.now() + delay });
  }

  private defaultVisit(network: string): Visit {
    return { focused: this.focusedNetwork === network, since: this.focusKnownAt ?? this.options.clock.now() };
  }

  private scheduleReview(network: string, at: number | undefined): void {
    const existing = this.reviews.get(network);
    if (existing?.at === at) return;
    this.cancelReview(network);
    if (at === undefined || this.closed) return;
    const cancel = this.options.clock.after(Math.max(0, at - this.options.clock.now()), () => {
      this.reviews.delete(network);
      this.reconcile(network);
    });
    this.reviews.set(network, { at, cancel });
  }

  private cancelReview(network: string): void {
    this.reviews.get(network)?.cancel();
    this.reviews.delete(network);
  }

  private settle(network: string): void {
    const waiters = this.settledWaiters.get(network);
    if (!waiters) return;
    this.settledWaiters.delete(network);
    for (const resolve of waiters) resolve();
  }
}
