import { EventEmitter } from "node:events";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { ClanError, errorMessage } from "../shared/errors.js";
import { rateLimitedLog } from "../shared/log.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { readAdoptionRecord, writeAdoptionRecord, type AdoptionRecord } from "./adoption-record.js";
import { isDisplayBusOf, removeDisplayBus } from "./display-bus.js";
import { waitForGuestReady } from "./guest-readiness.js";
import type { JsonLineConnection } from "./json-lines.js";
import { isAlive, isQemuOf, readTail, waitForExit } from "./qemu-process.js";
import { QmpClient } from "./qmp-client.js";
import { GuestAgentSession } from "./guest-agent-session.js";
import { snapshotStateDisk, thawIfFrozen } from "./state-snapshot.js";
import { replaceStateDisk } from "./state-disk-replace.js";
import { escalateStop } from "./stop-escalation.js";
import type { SupervisorDependencies } from "./supervisor-dependencies.js";
import { vmIdentity, type VmIdentity } from "./vm-identity.js";
import { launchVm } from "./vm-launch.js";
import { startLostQemu, whyStartCancelled } from "./start-cancel.js";
import { StartTimings } from "./start-timings.js";
import { displaySockets, type VmPaths } from "./vm-paths.js";
import type { SnapshotReport, DecodedVmStartOptions, VmState, VmStatus } from "../shared/vm-api.js";
import { checkStart } from "./start-checks.js";
import { assertTransition, hasProcess } from "./vm-state.js";
import { NetworkVpn, NO_VPN } from "./vpn/network-vpn.js";
import { traceHop } from "../shared/hop-trace.js";
import { measureVmFigures } from "./vm-figures.js";
import type { VmFigures } from "../shared/monitoring-api.js";

// One supervisor per network VM. It owns the QEMU process, publishes every state transition the moment it
// happens, coalesces concurrent starts, and never leaves a process it cannot account for.

export interface SupervisorEvents {
  status: [VmStatus];
}

const CONSOLE_TAIL_BYTES = 16 * 1024;
const GUEST_LOG_LIMIT = { burst: 20, windowMs: 10_000 };

export class VmSupervisor extends EventEmitter<SupervisorEvents> {
  private current: VmStatus;
  private qmp: QmpClient | undefined;
  private control: JsonLineConnection | undefined;
  private helperPids: number[] = [];
  private starting: Promise<VmStatus> | undefined;
  private startAbort: AbortController | undefined;
  private stopping: Promise<VmStatus> | undefined;
  readonly guestAgent: GuestAgentSession;
  readonly vpn: NetworkVpn;
  /** Who this network's QEMU and virtiofsd run as (vm-identity.ts). */
  private readonly identity: VmIdentity | undefined;
  /** Set when QEMU reports that the guest itself powered off: its exit is then a stop, not a failure. */
  private guestPoweredOff = false;
  /** A guest can send bad control-port lines at will: a flood is counted, not logged line by line. */
  private readonly guestMessageLog: (why: string) => void;

  constructor(
    readonly network: string,
    private readonly paths: VmPaths,
    private readonly deps: SupervisorDependencies,
  ) {
    super();
    this.guestMessageLog = rateLimitedLog((why) => deps.log(`${network}: guest: ${why}`), "bad control-port messages", GUEST_LOG_LIMIT);
    this.guestAgent = new GuestAgentSession(paths.guestAgentSocket);
    this.identity = vmIdentity(paths.runtimeDir);
    this.vpn = new NetworkVpn({
      identity: this.identity,
      network,
      runtimeRoot: dirname(paths.runtimeDir),
      runtimeDir: paths.runtimeDir,
      stateDir: paths.stateDir,
      wireguardGoBinary: deps.wireguardGoBinary,
      yggdrasilBinary: deps.yggdrasilBinary,
      canCreateNamespaces: deps.canCreateNamespaces,
      log: deps.log,
      // The VPN's state changes without a VM transition (a handshake, a peer lost): published all the same.
      changed: (fields) => {
        this.current = { ...this.current, ...fields };
        this.emit("status", this.status);
      },
    });
    this.current = {
      network,
      state: "stopped",
      generation: "",
      pid: 0,
      accelerator: "",
      since: Date.now(),
      error: "",
      display: "none",
      displaySocket: "",
      waypipeSockets: [],
      ...NO_VPN,
    };
  }

  get status(): VmStatus {
    return { ...this.current };
  }

  /** Idempotent: a running VM stays, a paused one resumes, concurrent calls share one start. */
  start(generationPath: string, options: DecodedVmStartOptions = { shareGrants: [] }): Promise<VmStatus> {
    if (this.starting) return this.starting;
    if (this.current.state === "running") return Promise.resolve(this.status);
    if (this.current.state === "paused") return this.resume();
    if (this.current.state === "stopping") {
      throw new ClanError("Busy", `VM of ${this.network} is stopping; start it again once it has stopped`);
    }
    this.starting = this.bootGeneration(generationPath, options).finally(() => {
      this.starting = undefined;
      this.startAbort = undefined;
    });
    return this.starting;
  }

  async pause(): Promise<VmStatus> {
    if (this.current.state === "paused") return this.status;
    const qmp = this.requireQmp("running", "pause");
    await qmp.execute("stop");
    // QEMU's STOP event may have been handled before this reply arrived.
    if (this.current.state === "running") this.transition("paused");
    return this.status;
  }

  async resume(): Promise<VmStatus> {
    if (this.current.state === "running") return this.status;
    const qmp = this.requireQmp("paused", "resume");
    traceHop?.("cont-sent", this.network);
    await qmp.execute("cont");
    traceHop?.("cont-answered", this.network);
    if (this.current.state === "paused") this.transition("running");
    return this.status;
  }

  /** Escalates ACPI powerdown → QMP quit → SIGTERM → SIGKILL; concurrent calls share one stop. */
  stop(): Promise<VmStatus> {
    this.stopping ??= this.stopNow().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** A consistent copy of the state disk at `target` (see state-snapshot.ts). */
  snapshotState(target: string, hooks: string[][]): Promise<SnapshotReport> {
    return snapshotStateDisk({ status: this.status, paths: this.paths, agent: this.guestAgent, hooks, target, log: this.deps.log });
  }

  /** Puts `image` in place of the state disk of a stopped VM, keeping the old one as state.qcow2.previous. */
  replaceStateDisk(image: string): Promise<void> {
    if (this.current.state !== "stopped" && this.current.state !== "failed") {
      throw new ClanError("InvalidState", `stop the VM of ${this.network} before replacing its state disk (it is ${this.current.state})`);
    }
    return replaceStateDisk(this.paths.stateDisk, image);
  }

  async consoleTail(maxBytes = CONSOLE_TAIL_BYTES): Promise<string> {
    return readTail(this.paths.consoleLog, Math.min(maxBytes, 1024 * 1024));
  }

  /** CPU, memory, disk and network figures of the VM's process and guest, read now (vm-figures.ts). */
  figures(): Promise<VmFigures> {
    const qmp = this.requireQmpOf(["running", "paused"], "measure");
    return measureVmFigures({
      network: this.network,
      pid: this.current.pid,
      qmp: (command, args) => qmp.execute(command, args, 3000),
      guestInterfaces: () => this.guestAgent.networkInterfaces(),
      now: Date.now,
    });
  }

  /** After a clan-vmd restart: take over a VM that a previous clan-vmd started, or clean up what is stale. */
  async adopt(): Promise<boolean> {
    const record = await readAdoptionRecord(this.paths.record);
    if ("invalid" in record) {
      this.deps.log(`${this.network}: discarding unreadable runtime record: ${record.invalid}`);
      await this.removeRuntimeFiles();
      return false;
    }
    if (!isAlive(record.pid) || !(await isQemuOf(record.pid, this.network))) {
      this.deps.log(`${this.network}: VM from a previous run is gone; removing its runtime files`);
      await this.endDisplayBusOf(record);
      await this.releaseVmResources("SIGTERM");
      return false;
    }
    try {
      const qmp = await QmpClient.connect(this.paths.qmpSocket, 3000);
      const runState = await qmp.queryStatus();
      this.attach(qmp, record);
      if (record.displayBusPid !== undefined && (await isDisplayBusOf(record.displayBusPid, this.paths))) this.helperPids = [record.displayBusPid];
      await this.vpn.adopt();
      this.current = {
        ...this.current,
        pid: record.pid,
        generation: record.generation,
        accelerator: record.accelerator,
        ...displaySockets(this.paths, record.display, record.waypipePorts),
      };
      this.transition("starting");
      this.transition(runState.running ? "running" : "paused");
      if (runState.running) {
        await thawIfFrozen(this.network, this.guestAgent, this.deps.log).catch((error: unknown) =>
          this.deps.log(`${this.network}: cannot ask the guest agent whether the guest is frozen: ${errorMessage(error)}`),
        );
      }
      return true;
    } catch (error) {
      this.deps.log(`${this.network}: VM pid ${record.pid} does not answer on QMP (${errorMessage(error)}); killing it`);
      await this.endDisplayBusOf(record);
      await this.releaseVmResources("SIGKILL", record.pid);
      return false;
    }
  }

  private async bootGeneration(generationPath: string, options: DecodedVmStartOptions): Promise<VmStatus> {
    // Invalid input is refused before any state changes: the VM stays as it was, the caller gets the reason.
    const timings = new StartTimings();
    const generation = await checkStart({ network: this.network, generationPath, options, hostCapacity: this.deps.hostCapacity, identity: this.identity });
    const accelerator = await this.deps.chooseAccelerator(generation.kernel);
    timings.mark("checks");
    this.current = {
      ...this.current,
      generation: generation.resolvedPath,
      accelerator,
      error: "",
      pid: 0,
      ...displaySockets(this.paths, generation.vm.display, generation.vm.waypipe.ports),
    };
    this.transition("starting");
    const abort = new AbortController();
    this.startAbort = abort;
    try {
      const launched = await launchVm({
        network: this.network,
        generation,
        paths: this.paths,
        accelerator,
        qemuBinary: this.deps.qemuBinary,
        virtiofsdBinary: this.deps.virtiofsdBinary,
        dbusDaemonBinary: this.deps.dbusDaemonBinary,
        storeViews: this.deps.storeViews,
        signal: abort.signal,
        identity: this.identity,
        prepareNetwork: () => this.vpn.prepare(generation.vm),
        timings,
      });
      this.helperPids = launched.helperPids;
      const record: AdoptionRecord = {
        network: this.network,
        pid: launched.pid,
        generation: generation.resolvedPath,
        accelerator,
        display: generation.vm.display,
        waypipePorts: generation.vm.waypipe.ports,
        ...(launched.displayBusPid === undefined ? {} : { displayBusPid: launched.displayBusPid }),
        startedAt: Date.now(),
      };
      await writeAdoptionRecord(this.paths.record, record);
      this.current = { ...this.current, pid: launched.pid };
      this.attach(launched.qmp, record);
      const ready = await waitForGuestReady({
        vm: generation.vm,
        paths: this.paths,
        signal: abort.signal,
        onInvalidMessage: this.guestMessageLog,
      });
      this.control = ready.control;
      timings.mark("guest ready");
      this.deps.debugLog(`${this.network}: ${timings.summary()}`);
      if (this.current.state !== "starting") throw new ClanError("InvalidState", `VM of ${this.network} left starting while booting`);
      this.transition("running");
      return this.status;
    } catch (error) {
      // QEMU lost mid-start: onQmpLost fails the VM with QEMU's own last words, and the caller learns that cause.
      if (this.current.state === "starting" && (await startLostQemu(abort.signal, this.qmp !== undefined))) throw whyStartCancelled(abort.signal);
      if (this.current.state === "starting") await this.failAndKill(`start failed: ${errorMessage(error)}`);
      throw error;
    }
  }

  private attach(qmp: QmpClient, record: AdoptionRecord): void {
    this.qmp = qmp;
    this.guestPoweredOff = false;
    qmp.on("close", () => void this.onQmpLost(qmp, record.pid));
    qmp.on("event", (event) => {
      // A pause or resume done behind our back (a QMP monitor, a guest's watchdog) is still published.
      if (event.event === "STOP" && this.current.state === "running") this.transition("paused");
      if (event.event === "RESUME" && this.current.state === "paused") this.transition("running");
      if (event.event === "SHUTDOWN" && event.data?.guest === true && event.data.reason === "guest-shutdown") {
        this.guestPoweredOff = true;
      }
    });
  }

  private async onQmpLost(qmp: QmpClient, pid: number): Promise<void> {
    if (this.qmp !== qmp) return;
    this.qmp = undefined;
    if (this.current.state === "stopping" || !hasProcess(this.current.state)) return;
    if (this.guestPoweredOff && (this.current.state === "running" || this.current.state === "paused")) {
      await this.cleanUpAfterExit(pid, "the guest powered off");
      return;
    }
    // A start still waiting for the guest fails now, saying why (not as if it had been stopped); the VM's error
    // below adds QEMU's last words.
    this.startAbort?.abort(new ClanError("QemuFailed", `QEMU was lost while ${this.network}'s guest was booting; the VM's error says more`));
    // The tail ends up in the VM's error, which clanctl, the bar and notifications show: the guest wrote it.
    const tail = terminalSafe((await this.consoleTail(2000)).trim().split("\n").slice(-10).join("\n"), { multiline: true });
    // The socket closes while a dying QEMU is still being torn down: give the exit a moment before naming the cause.
    const exited = await waitForExit(pid, 500);
    const reason = exited ? "QEMU exited unexpectedly" : "QEMU's QMP socket was lost";
    const qemuSaid = terminalSafe((await readTail(this.paths.qemuOutput, 1000)).trim(), { multiline: true });
    await this.failAndKill(`${reason}${tail ? `; console tail:\n${tail}` : ""}${qemuSaid ? `\nQEMU said: ${qemuSaid}` : ""}`);
  }

  private async cleanUpAfterExit(pid: number, why: string): Promise<void> {
    await waitForExit(pid, 5000);
    await this.releaseVmResources("SIGTERM");
    this.settleStopped(why);
  }

  private async failAndKill(reason: string): Promise<void> {
    await this.releaseVmResources("SIGKILL", this.current.pid);
    // QEMU lost during a start fails it twice, from the start and from the lost QMP: the first reason stands.
    if (this.current.state === "failed") return;
    this.current = { ...this.current, error: reason, pid: 0 };
    this.deps.log(`${this.network}: failed: ${reason}`);
    this.transition("failed");
  }

  private async stopNow(): Promise<VmStatus> {
    if (this.current.state === "stopped") return this.status;
    if (this.starting) {
      this.startAbort?.abort();
      await this.starting.catch(() => undefined);
    }
    const state = this.current.state as VmState;
    if (state === "stopped") return this.status;
    const pid = this.current.pid;
    if (state === "failed" && pid === 0) {
      this.transition("stopped");
      return this.status;
    }
    this.transition("stopping");
    this.guestAgent.close();
    const how = await escalateStop({ pid, qmp: this.qmp, timeouts: this.deps.stopTimeouts, log: this.deps.log });
    await this.releaseVmResources("SIGTERM");
    this.settleStopped(how);
    return this.status;
  }

  /**
   * Everything the VM held: its connections, helper daemons (virtiofsd), VPN and runtime files. The one teardown
   * of every way out — stop, failure, guest power-off, a previous run's VM found dead on adoption. `qemuPid` is a
   * QEMU still to be killed with the helpers and waited for; 0 when it has exited. QMP is closed first, so the
   * socket closing under a dying QEMU is not taken for a second failure. A VPN left behind would keep a namespace
   * and an endpoint nobody uses.
   */
  private async releaseVmResources(helperSignal: "SIGTERM" | "SIGKILL", qemuPid = 0): Promise<void> {
    this.guestAgent.close();
    this.control?.close();
    this.control = undefined;
    this.qmp?.close();
    this.qmp = undefined;
    for (const pid of [qemuPid, ...this.helperPids]) if (pid > 0 && isAlive(pid)) process.kill(pid, helperSignal);
    this.helperPids = [];
    if (qemuPid > 0) await waitForExit(qemuPid, 5000);
    await this.vpn.teardown().catch((error: unknown) => this.deps.log(`${this.network}: cannot tear down the VPN: ${errorMessage(error)}`));
    await this.removeRuntimeFiles();
  }

  private settleStopped(how: string): void {
    this.deps.log(`${this.network}: stopped (${how})`);
    this.current = { ...this.current, pid: 0, generation: "", ...displaySockets(this.paths, "none", 0) };
    this.transition("stopped");
  }

  /** A display bus left by a VM that is not adopted: nobody would ever stop it. */
  private async endDisplayBusOf(record: AdoptionRecord): Promise<void> {
    if (record.displayBusPid !== undefined && (await isDisplayBusOf(record.displayBusPid, this.paths))) process.kill(record.displayBusPid, "SIGTERM");
  }

  /** The VM's runtime directory and its display bus's, once nothing runs in them. */
  private async removeRuntimeFiles(): Promise<void> {
    await rm(this.paths.runtimeDir, { recursive: true, force: true });
    await removeDisplayBus(this.paths);
  }



  private requireQmp(expected: VmState, action: string): QmpClient {
    return this.requireQmpOf([expected], action);
  }

  private requireQmpOf(expected: VmState[], action: string): QmpClient {
    if (!expected.includes(this.current.state) || !this.qmp) {
      throw new ClanError("InvalidState", `cannot ${action} the VM of ${this.network}: it is ${this.current.state}`);
    }
    return this.qmp;
  }

  private transition(to: VmState): void {
    assertTransition(this.network, this.current.state, to);
    this.current = { ...this.current, state: to, since: Date.now() };
    this.emit("status", this.status);
  }
}
