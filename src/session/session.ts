import { EventEmitter } from "node:events";
import { join } from "node:path";
import type { MessageBus } from "@jellybrick/dbus-next";
import { VMD_BUS_NAME } from "../shared/dbus-names.js";
import { ClanError, errorMessage } from "../shared/errors.js";
import { watchName } from "../shared/name-watch.js";
import type { BuildLogLines, VmFigures } from "../shared/monitoring-api.js";
import type { VmStatus } from "../shared/vm-api.js";
import { VmdClient } from "../shared/vmd-client.js";
import { ApplicationsService } from "./applications/applications-service.js";
import { BackupActions } from "./backups/backup-actions.js";
import { BuildLogBatches } from "./build-log-batches.js";
import { FiguresWatch } from "./figures-watch.js";
import { diffConfigs } from "./config/diff.js";
import type { ConfigWatcher } from "./config/watcher.js";
import { vmStartOptions, type Config, type NetworkConfig } from "./config/schema.js";
import { DisplayViewers } from "./display-viewers.js";
import { GenerationActions } from "./generations/generation-actions.js";
import { SessionJobs } from "./jobs/session-jobs.js";
import { NetworkAccess } from "./network-access.js";
import { NetworkRegistry } from "./network-registry.js";
import { gatedNotify } from "./notification-gate.js";
import type { Notify } from "./notifications.js";
import { systemClock } from "./clock.js";
import { Reconciler } from "./reconciler.js";
import { StartPreparer } from "./start-preparer.js";
import { securityNotifier } from "./security-notices.js";
import type { WindowManagerBackend } from "./window-manager-backend.js";
import { traceHop } from "../shared/hop-trace.js";

// clan-sessiond's composition: the config, the network registry, the reconciler, display viewers, the window
// manager backend (which may attach after the start: a window manager found later) and the connection to
// clan-vmd, which may come and go without the session losing anything.

export interface SessionOptions {
  bus: MessageBus;
  config: ConfigWatcher;
  /** The window manager found at the start; one found later comes through attachBackend. */
  backend: WindowManagerBackend | undefined;
  profilesDir: string;
  /** $XDG_STATE_HOME/clan-desktop: backup records and the work space of backups. */
  stateDir: string;
  viewerBinary: string;
  /** clan-viewer's command line up to its own arguments. */
  dbusViewer: string[];
  waypipeBinary: string;
  /** clan-wayland-filter, between waypipe client and the compositor. */
  waylandFilter: string;
  /** clan-sessiond's private directory for sockets (waypipe clients'), or undefined without XDG_RUNTIME_DIR. */
  runtimeDir: string | undefined;
  notify: Notify;
  log: (message: string) => void;
  /** $XDG_DATA_HOME/clan-desktop/networks: the flakes of networks made with "New network". */
  networksDir: string;
  /** nix/templates/network of this installation. */
  templateDir: string;
}

export interface SessionEvents {
  "config-error-changed": [string];
  "viewer-pids-changed": [Record<string, number>];
  "backend-changed": [string];
  /** A window manager outside this process (the GNOME extension) reported focus over D-Bus. */
  "focus-reported": [];
  /** Lines a build printed, batched (BuildLogChanged). */
  "build-log-lines": [BuildLogLines];
  /** A sample of a watched network's figures (FiguresSampled). */
  figures: [VmFigures];
}

export class Session extends EventEmitter<SessionEvents> {
  readonly registry = new NetworkRegistry();
  readonly reconciler: Reconciler;
  readonly generations: GenerationActions;
  readonly backups: BackupActions;
  readonly jobs: SessionJobs;
  readonly applications: ApplicationsService;
  readonly buildLogBatches = new BuildLogBatches((batch) => this.emit("build-log-lines", batch));
  readonly figures = new FiguresWatch({
    measure: (network) => this.requireVmd().figures(network),
    publish: (sample) => this.emit("figures", sample),
    now: () => systemClock.now(),
    every: (ms, run) => {
      const timer = setInterval(run, ms);
      return () => clearInterval(timer);
    },
    log: (message) => this.options.log(message),
  });
  private readonly viewers: DisplayViewers;
  private readonly access: NetworkAccess;
  private readonly preparer: StartPreparer;
  private updateTimer: NodeJS.Timeout | undefined;
  /** Which scheduling of update checks is current: a run still in flight from an older one ends its loop. */
  private updateSchedule = 0;
  private vmd: VmdClient | undefined;
  private stopVmdSignals: (() => void) | undefined;
  private readonly securityNotice: ReturnType<typeof securityNotifier>;
  private currentWorkspace: string | undefined;
  private backend: WindowManagerBackend | undefined;
  private started = false;

  constructor(private readonly options: SessionOptions) {
    super();
    this.backend = options.backend;
    const notify = gatedNotify(options.notify, () => options.config.current.notifications);
    this.reconciler = new Reconciler({
      registry: this.registry,
      vmd: () => this.vmd,
      generationOf: (network, config) => this.generationOf(network, config),
      debounceMs: () => options.config.current.switchDebounceMs,
      clock: systemClock,
      log: options.log,
    });
    this.preparer = new StartPreparer({
      registry: this.registry,
      vmd: () => this.vmd,
      generationOf: (network, config) => this.generationOf(network, config),
      log: options.log,
    });
    this.generations = new GenerationActions({
      registry: this.registry,
      vmd: () => this.vmd,
      currentChanged: (network) => this.preparer.prepare(network),
      holdVm: (network) => this.reconciler.hold(network),
      profileOf: (network, config) => this.generationOf(network, config),
      allowedInputs: () => options.config.current.join.allowInputs,
      notify,
      log: options.log,
      buildLogListener: this.buildLogBatches,
    });
    this.backups = new BackupActions({
      registry: this.registry,
      vmd: () => this.vmd,
      holdVm: (network) => this.reconciler.hold(network),
      startVm: (network) => this.startVm(network),
      stateDir: options.stateDir,
      notify,
      log: options.log,
    });
    this.jobs = new SessionJobs({ registry: this.registry, generations: this.generations, backups: this.backups, notify });
    this.applications = new ApplicationsService({
      config: options.config,
      networksDir: options.networksDir,
      templateDir: options.templateDir,
      profileOf: (network, config) => this.generationOf(network, config),
    });
    this.securityNotice = securityNotifier({ notify: options.notify, restoring: (network) => this.backups.isRestoring(network), log: options.log });
    this.access = new NetworkAccess({
      registry: this.registry,
      generationOf: (network, config) => this.generationOf(network, config),
      log: options.log,
    });
    this.viewers = new DisplayViewers({
      registry: this.registry,
      backend: () => this.backend,
      viewerBinary: options.viewerBinary,
      dbusViewer: options.dbusViewer,
      waypipeBinary: options.waypipeBinary,
      waylandFilter: options.waylandFilter,
      runtimeDir: options.runtimeDir,
      pidsChanged: () => this.emit("viewer-pids-changed", this.viewers.pids()),
      log: options.log,
    });
  }

  get focusedNetwork(): string | undefined {
    return this.reconciler.focused;
  }

  get configError(): string {
    return this.options.config.lastError?.message ?? "";
  }

  /** clan-vmd, for calls that go straight through to it (a network's VPN peers). */
  requireVmd(): VmdClient {
    if (!this.vmd) throw new ClanError("Disconnected", "clan-vmd is not running");
    return this.vmd;
  }

  /** Each network's host display process (viewer or waypipe client), for window managers that place windows. */
  get viewerPids(): Record<string, number> {
    return this.viewers.pids();
  }

  get backendKind(): string {
    return this.backend?.kind ?? "none";
  }

  async startup(): Promise<void> {
    const { config, log } = this.options;
    config.on("applied", (next, previous) => void this.applyConfig(next, previous));
    config.on("rejected", (error) => {
      log(`config rejected, the last good config stays in force: ${error.message}`);
      this.emit("config-error-changed", error.message);
    });
    config.on("error", (error) => log(`config watcher: ${error.message}`));
    await this.backups.load();
    await config.start();
    await watchName(this.options.bus, VMD_BUS_NAME, {
      appeared: () => this.connectVmd(),
      vanished: () => this.vmdVanished(),
    });
    if (this.backend) await this.listenTo(this.backend);
    this.started = true;
    this.reconciler.begin();
  }

  /** A window manager found after the start (it started after clan-sessiond, or its socket appeared later). */
  async attachBackend(backend: WindowManagerBackend): Promise<void> {
    this.backend = backend;
    this.emit("backend-changed", backend.kind);
    this.options.log(`attached to ${backend.kind}`);
    if (this.started) await this.listenTo(backend);
  }

  private async listenTo(backend: WindowManagerBackend): Promise<void> {
    backend.on("workspace-focused", (workspace) => this.workspaceFocused(workspace));
    backend.on("reconnected", () => void this.resyncFocus());
    await this.resyncFocus();
  }

  /** Focus reported over D-Bus (WorkspaceFocused) by a window manager outside this process: the GNOME extension. */
  focusReported(workspace: string): void {
    this.emit("focus-reported");
    this.workspaceFocused(workspace);
  }

  workspaceFocused(workspace: string): void {
    traceHop?.("focus-handled", workspace);
    this.currentWorkspace = workspace;
    this.reconciler.workspaceFocused(workspace);
    const network = this.reconciler.focused;
    if (network) this.viewers.networkEntered(network);
  }

  start(network: string): Promise<void> {
    return this.reconciler.start(network);
  }

  stop(network: string): Promise<void> {
    return this.reconciler.stop(network);
  }

  pause(network: string): Promise<void> {
    return this.reconciler.pause(network);
  }

  async switchTo(network: string): Promise<void> {
    const workspace = this.registry.config(network)?.workspaces[0];
    if (!workspace) throw new ClanError("UnknownNetwork", `no network named ${network}`);
    if (!this.backend) {
      throw new ClanError("InvalidState", "no window manager backend: the GNOME extension switches workspaces itself");
    }
    await this.backend.focusWorkspace(workspace);
  }

  async reloadConfig(): Promise<void> {
    const result = await this.options.config.reload();
    if (!result.ok) throw new ClanError("InvalidArgument", result.error.message);
  }

  /**
   * Asks the source of every network whose `updates.check` is on for a newer revision; failures are published per
   * network. A network with `updates.rebuild` on is rebuilt as soon as one is found.
   */
  async checkUpdates(): Promise<void> {
    for (const name of this.registry.names()) {
      const updates = this.registry.config(name)?.updates;
      if (!updates?.check) continue;
      try {
        const available = await this.generations.checkUpdate(name);
        if (available && this.registry.config(name)?.updates.rebuild) {
          const job = await this.jobs.startRebuild(name);
          this.options.log(`${name}: an update is available; automatic rebuild started (job ${job.id})`);
        }
      } catch (error) {
        this.options.log(`${name}: update check or automatic rebuild failed: ${errorMessage(error)}`);
      }
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.updateTimer);
    this.updateSchedule++;
    this.backups.close();
    this.figures.close();
    this.buildLogBatches.close();
    this.jobs.close();
    this.reconciler.close();
    this.viewers.closeAll();
    this.stopVmdSignals?.();
    await this.options.config.close();
    await this.backend?.close();
  }

  /** Boots the network's current generation, for a restore that stopped the VM to swap its disk. */
  private async startVm(network: string): Promise<VmStatus> {
    const config = this.registry.config(network);
    if (!config) throw new ClanError("UnknownNetwork", `no network named ${network} in the config`);
    return this.requireVmd().start(network, this.generationOf(network, config), vmStartOptions(config));
  }

  private generationOf(network: string, config: NetworkConfig): string {
    return "profile" in config.source ? config.source.profile : join(this.options.profilesDir, network);
  }

  private async applyConfig(next: Config, previous: Config): Promise<void> {
    const diff = diffConfigs(previous, next);
    this.registry.applyConfig(next);
    this.emit("config-error-changed", "");
    // Grants change what a generation is allowed without changing any status field: re-judge every network.
    for (const name of this.registry.names()) void this.access.refresh(name);
    if (this.vmd && diff.added.length > 0) await this.refreshVms(this.vmd);
    // Where a network boots from, and what it may be granted, decide what its next start needs.
    for (const name of diff.added) this.preparer.prepare(name);
    for (const { name, fields } of diff.changed) if (fields.some((field) => field === "source" || field === "vm" || field === "grants")) this.preparer.prepare(name);
    for (const name of diff.removed) this.preparer.forget(name);
    // Removed networks' VMs belong to no one now: the reconciler stops them, and compares the rest again.
    this.reconciler.configApplied();
    // A workspace may now belong to another network, or to one for the first time.
    if (this.currentWorkspace !== undefined) this.workspaceFocused(this.currentWorkspace);
    // Update checks ask every source over the network: only when what they depend on changed, not at every save.
    const sourcesChanged = diff.added.length > 0 || diff.changed.some((change) => change.fields.includes("source") || change.fields.includes("updates"));
    if (this.updateSchedule === 0 || sourcesChanged || diff.settingsChanged.includes("updateCheckMinutes")) {
      this.scheduleUpdateChecks(next.updateCheckMinutes);
    }
    this.backups.reschedule();
  }

  private scheduleUpdateChecks(minutes: number): void {
    clearTimeout(this.updateTimer);
    const schedule = ++this.updateSchedule;
    const run = () => {
      void this.checkUpdates().finally(() => {
        if (schedule === this.updateSchedule) this.updateTimer = setTimeout(run, minutes * 60_000);
      });
    };
    run();
  }

  private async connectVmd(): Promise<void> {
    try {
      const vmd = await VmdClient.connect(this.options.bus);
      this.stopVmdSignals?.();
      const stopStates = vmd.onStateChanged(
        (status) => {
          traceHop?.(`state-changed-received:${status.state}`, status.network);
          this.reconciler.vmStatus(status);
          this.viewers.vmChanged(status);
        },
        (error) => this.options.log(`clan-vmd sent an invalid status: ${error.message}`),
      );
      const stopSecurityEvents = vmd.onSecurityEvent(this.securityNotice, (error) => this.options.log(`clan-vmd sent an invalid security event: ${error.message}`));
      this.stopVmdSignals = () => {
        stopStates();
        stopSecurityEvents();
      };
      this.vmd = vmd;
      await this.refreshVms(vmd);
      this.backups.reschedule();
      this.options.log("connected to clan-vmd");
      this.preparer.prepareAll();
    } catch (error) {
      this.options.log(`cannot use clan-vmd: ${errorMessage(error)}`);
    }
  }

  /** Re-reads every VM from clan-vmd, and has the reconciler compare them with what the user wants. */
  private async refreshVms(vmd: VmdClient): Promise<void> {
    const listed = await vmd.list();
    const statuses = new Map(listed.map((status) => [status.network, status]));
    for (const name of this.registry.names()) {
      const status = statuses.get(name);
      if (status) this.viewers.vmChanged(status);
      else this.registry.update(name, { vmState: "stopped", generation: "" });
    }
    this.reconciler.vmdListed(listed);
  }

  private vmdVanished(): void {
    this.options.log("clan-vmd left the bus; VM states are unavailable until it returns");
    this.stopVmdSignals?.();
    this.stopVmdSignals = undefined;
    this.vmd = undefined;
    this.registry.markVmsUnavailable();
    this.reconciler.vmdVanished();
  }

  private async resyncFocus(): Promise<void> {
    const workspace = await this.backend?.focusedWorkspace();
    if (workspace !== undefined) this.workspaceFocused(workspace);
  }
}
