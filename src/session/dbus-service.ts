import type { EventEmitter } from "node:events";
import type { MessageBus } from "@jellybrick/dbus-next";
import { serveContract, type ServedInterface } from "../shared/contracts/service.js";
import { SessionManagerContract } from "../shared/contracts/session.js";
import { SESSION_MANAGER_PATH } from "../shared/dbus-names.js";
import { ClanError } from "../shared/errors.js";
import type { Job } from "../shared/job-api.js";
import type { NetworkStatus } from "../shared/session-api.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { VmdClient } from "../shared/vmd-client.js";
import type { ApplicationsService } from "./applications/applications-service.js";
import type { BackupActions } from "./backups/backup-actions.js";
import type { GenerationActions } from "./generations/generation-actions.js";
import type { BuildLogBatches } from "./build-log-batches.js";
import type { BusCallers } from "./bus-callers.js";
import type { FiguresWatch } from "./figures-watch.js";
import type { SessionJobs } from "./jobs/session-jobs.js";
import type { NetworkRegistry } from "./network-registry.js";
import type { SessionEvents } from "./session.js";
import { traceHop } from "../shared/hop-trace.js";

// clan-sessiond's D-Bus API (contracts/session.ts, docs/dbus.md). Everything a client shows is pushed:
// NetworkChanged carries the whole status of one network, NetworksChanged the names after a config reload,
// PropertiesChanged the focus and the config error. The contract validates the arguments and encodes the
// replies; this file only says which part of clan-sessiond answers each method.

/** What the session itself does for the API: act on a network's VM, follow the focus, report its state. */
export interface SessionControl extends Pick<EventEmitter<SessionEvents>, "on"> {
  start(network: string): Promise<void>;
  stop(network: string): Promise<void>;
  pause(network: string): Promise<void>;
  switchTo(network: string): Promise<void>;
  /** The GNOME extension reported a focus: also ends the wait for a sway or i3 (docs/session.md). */
  focusReported(workspace: string): void;
  reloadConfig(): Promise<void>;
  readonly focusedNetwork: string | undefined;
  readonly configError: string;
  readonly viewerPids: Record<string, number>;
  readonly backendKind: string;
}

export interface SessionApiDependencies {
  registry: Pick<NetworkRegistry, "get" | "list" | "on">;
  jobs: Pick<SessionJobs, "startRebuild" | "startRollback" | "startBackup" | "startRestore" | "runner">;
  generations: Pick<GenerationActions, "generations" | "buildLog" | "checkUpdate">;
  backups: Pick<BackupActions, "snapshots">;
  /** clan-vmd, for the calls that go straight through to it (VPN peers); throws Disconnected while it is away. */
  vmd: () => Pick<VmdClient, "peers" | "blockPeer" | "unblockPeer" | "figures" | "consoleTail">;
  session: SessionControl;
  applications: Pick<ApplicationsService, "applications" | "setApplications" | "createNetwork" | "updatePolicy" | "setUpdatePolicy" | "setNotifications" | "notifications">;
  /** Monitoring: who watches which network's figures, and the build-log lines waiting for BuildLogChanged. */
  figures: Pick<FiguresWatch, "watch" | "unwatch">;
  buildLogBatches: Pick<BuildLogBatches, "flush">;
  /** Who calls, for the watches a caller owns. */
  callers: Pick<BusCallers, "current">;
}

/** What ConsoleLog returns of the console's tail: what a guest printed, not what a screen may take as commands. */
const CONSOLE_LOG_BYTES = 16 * 1024;

export type SessionApi = ServedInterface<typeof SessionManagerContract>;

export function exportSessionApi(bus: MessageBus, deps: SessionApiDependencies): SessionApi {
  const { registry, jobs, generations, backups, vmd, session, applications, figures, buildLogBatches, callers } = deps;
  /** The network as the config has it; UnknownNetwork before anything acts on it. */
  const requireNetwork = (name: string): NetworkStatus => {
    const status = registry.get(name);
    if (!status) throw new ClanError("UnknownNetwork", `no network named ${JSON.stringify(name.slice(0, 64))} in the config`);
    return status;
  };
  const known = (name: string): string => requireNetwork(name).name;
  const untilEnded = (job: Job): Promise<string> => jobs.runner.outcome(job.id);
  const rollbackTarget = (to: number): number | undefined => (to < 0 ? undefined : to);

  const api: SessionApi = serveContract(
    bus,
    SESSION_MANAGER_PATH,
    SessionManagerContract,
    {
      ListNetworks: () => registry.list(),
      GetNetwork: (name) => requireNetwork(name),
      Start: (name) => session.start(known(name)),
      Stop: (name) => session.stop(known(name)),
      Pause: (name) => session.pause(known(name)),
      Switch: (name) => session.switchTo(known(name)),
      StartRebuild: async (name) => (await jobs.startRebuild(known(name))).id,
      StartRollback: async (name, to) => (await jobs.startRollback(known(name), rollbackTarget(to))).id,
      StartBackup: async (name) => (await jobs.startBackup(known(name))).id,
      StartRestore: async (name, snapshot) => (await jobs.startRestore(known(name), snapshot)).id,
      Jobs: () => jobs.runner.list(),
      GetJob: (id) => jobs.runner.get(id),
      Rebuild: async (name) => {
        await untilEnded(await jobs.startRebuild(known(name)));
      },
      StartRebuildRevision: async (name, revision) => (await jobs.startRebuild(known(name), revision)).id,
      Rollback: async (name, to) => {
        await untilEnded(await jobs.startRollback(known(name), rollbackTarget(to)));
      },
      Generations: (name) => generations.generations(known(name)),
      BuildLog: (name) => {
        const network = known(name);
        buildLogBatches.flush(network);
        return generations.buildLog(network);
      },
      CheckUpdate: (name) => generations.checkUpdate(known(name)),
      Peers: (name) => vmd().peers(known(name)),
      BlockPeer: (name, peer) => vmd().blockPeer(known(name), peer),
      UnblockPeer: (name, peer) => vmd().unblockPeer(known(name), peer),
      BackupNow: async (name) => {
        await untilEnded(await jobs.startBackup(known(name)));
      },
      Backups: (name) => backups.snapshots(known(name)),
      Restore: async (name, snapshot) => untilEnded(await jobs.startRestore(known(name), snapshot)),
      WorkspaceFocused: (workspace) => session.focusReported(workspace),
      ReloadConfig: () => session.reloadConfig(),
      NetworkApplications: (name) => applications.applications(known(name)),
      SetNetworkApplications: async (name, configs, expectedRevision) => {
        const { revision, diff } = await applications.setApplications(known(name), configs, expectedRevision);
        return [revision, diff];
      },
      CreateNetwork: (name, label, colour, workspace) => applications.createNetwork({ name, label, colour, workspace }),
      NetworkUpdatePolicy: (name) => applications.updatePolicy(known(name)),
      SetNetworkUpdatePolicy: (name, policy) => applications.setUpdatePolicy(known(name), policy),
      SetNotifications: (enabled) => applications.setNotifications(enabled),
      Figures: (name) => vmd().figures(known(name)),
      // The caller is read before anything is awaited: bus-callers.ts.
      WatchFigures: (name) => figures.watch(known(name), callers.current()),
      UnwatchFigures: (id) => figures.unwatch(id, callers.current()),
      ConsoleLog: async (name) => terminalSafe(await vmd().consoleTail(known(name), CONSOLE_LOG_BYTES), { multiline: true }),
    },
    {
      FocusedNetwork: () => session.focusedNetwork ?? "",
      ConfigError: () => session.configError,
      ViewerPids: () => session.viewerPids,
      Backend: () => session.backendKind,
      Notifications: () => applications.notifications,
    },
  );
  registry.on("changed", (status) => {
    traceHop?.(`network-changed-sent:${status.vmState}`, status.name);
    api.emitSignal("NetworkChanged", status);
    if (status.focused || status.name === session.focusedNetwork) api.propertiesChanged({ FocusedNetwork: session.focusedNetwork ?? "" });
  });
  registry.on("list-changed", (names) => api.emitSignal("NetworksChanged", names));
  jobs.runner.on("changed", (job) => api.emitSignal("JobChanged", job));
  session.on("build-log-lines", (batch) => api.emitSignal("BuildLogChanged", batch));
  session.on("figures", (sample) => api.emitSignal("FiguresSampled", sample));
  session.on("config-error-changed", (message) => api.propertiesChanged({ ConfigError: message }));
  // Published at every config load (config-error-changed fires at each one), so a hand edit of the file shows too.
  session.on("config-error-changed", () => api.propertiesChanged({ Notifications: applications.notifications }));
  session.on("viewer-pids-changed", (pids) => api.propertiesChanged({ ViewerPids: pids }));
  session.on("backend-changed", (kind) => api.propertiesChanged({ Backend: kind }));
  return api;
}
