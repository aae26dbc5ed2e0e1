import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BarServer } from "../bar/bar-server.js";
import { barSocketPath } from "../shared/bar-socket.js";
import { claimName, connectSessionBus, onBusError } from "../shared/bus.js";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE } from "../shared/dbus-names.js";
import { ClanError, errorMessage } from "../shared/errors.js";
import { logger } from "../shared/log.js";
import { keepServingAfterUnexpectedErrors } from "../shared/run-main.js";
import { connectWindowManager, waitForWindowManager, type WindowManagerChoice } from "../sway/backend.js";
import type { WindowManagerBackend } from "./window-manager-backend.js";
import { resolveConfigPath } from "./config/load.js";
import { ConfigWatcher } from "./config/watcher.js";
import { serveBar } from "./bar-service.js";
import { followBusCallers } from "./bus-callers.js";
import { launchManager } from "./manager-launch.js";
import { exportSessionApi } from "./dbus-service.js";
import { desktopNotifier } from "./notifications.js";
import { Session } from "./session.js";

const USAGE = `usage: clan-sessiond [--config FILE] [--backend auto|sway|i3|none] [--profiles-dir DIR]

Enters a network when you focus one of its workspaces: starts or resumes its VM through clan-vmd, places and
decorates its windows, and serves org.clan.Desktop.Session1 on the session bus.
--backend none serves only D-Bus (the GNOME extension reports focus itself). With auto, sway or i3, a window
manager that is not running yet is attached as soon as its IPC socket appears.`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      backend: { type: "string", default: "auto" },
      "profiles-dir": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const log = logger("clan-sessiond");
  const configFile = resolveConfigPath({ cliPath: values.config, env: process.env });
  const stateHome = process.env.XDG_STATE_HOME ?? join(process.env.HOME ?? "/tmp", ".local", "state");
  const profilesDir = values["profiles-dir"] ?? join(stateHome, "clan-desktop", "profiles");
  const choice = parseBackendChoice(values.backend ?? "auto");
  const backend = await connectBackendNow(choice, log);

  const bus = connectSessionBus();
  const session = new Session({
    bus,
    config: new ConfigWatcher(configFile),
    backend,
    profilesDir,
    stateDir: join(stateHome, "clan-desktop"),
    viewerBinary: process.env.CLAN_VIEWER ?? "remote-viewer",
    dbusViewer: process.env.CLAN_DBUS_VIEWER ? [process.env.CLAN_DBUS_VIEWER] : [process.execPath, fileURLToPath(new URL("../../bin/clan-viewer.js", import.meta.url))],
    waypipeBinary: process.env.CLAN_WAYPIPE ?? "waypipe",
    waylandFilter: process.env.CLAN_WAYLAND_FILTER ?? fileURLToPath(new URL("../clan-wayland-filter", import.meta.url)),
    runtimeDir: process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, "clan-sessiond") : undefined,
    notify: desktopNotifier(bus, log),
    log,
    networksDir: join(process.env.XDG_DATA_HOME && isAbsolute(process.env.XDG_DATA_HOME) ? process.env.XDG_DATA_HOME : join(process.env.HOME ?? "/tmp", ".local", "share"), "clan-desktop", "networks"),
    templateDir: fileURLToPath(new URL("../../nix/templates/network", import.meta.url)),
  });
  const callers = await followBusCallers(bus, SESSION_MANAGER_INTERFACE);
  callers.onGone((name) => session.figures.ownerGone(name));
  exportSessionApi(bus, {
    registry: session.registry,
    jobs: session.jobs,
    generations: session.generations,
    backups: session.backups,
    vmd: () => session.requireVmd(),
    session,
    applications: session.applications,
    figures: session.figures,
    buildLogBatches: session.buildLogBatches,
    callers,
  });
  await session.startup();
  await claimName(bus, SESSION_BUS_NAME);
  log(`serving ${SESSION_BUS_NAME} (config ${configFile}, backend ${session.backendKind})`);
  // After the name is ours: no other clan-sessiond serves the socket this one replaces.
  const bar = await serveBarOrSayWhy(session, log);
  keepServingAfterUnexpectedErrors(log);
  const stopSearching = new AbortController();
  if (choice !== "none" && !backend) attachWindowManagerWhenItAppears(session, choice, log, stopSearching);

  const shutdown = async () => {
    stopSearching.abort();
    await bar?.close();
    await session.close();
    bus.disconnect();
    process.exit(0);
  };
  for (const signalName of ["SIGTERM", "SIGINT"] as const) process.on(signalName, () => void shutdown());
  process.on("SIGHUP", () => void session.reloadConfig().catch((error: unknown) => log(errorMessage(error))));
  onBusError(bus, (error) => {
    log(`session bus lost: ${errorMessage(error)}`);
    void shutdown();
  });
}

/** The bar socket (docs/bar.md); without it clan-sessiond still serves D-Bus, and the bars show it as not running. */
async function serveBarOrSayWhy(session: Session, log: (message: string) => void): Promise<BarServer | undefined> {
  const socketPath = barSocketPath(process.env);
  if (!socketPath) {
    log("not serving the bar: neither XDG_RUNTIME_DIR nor CLAN_BAR_SOCKET is set");
    return undefined;
  }
  try {
    const server = await serveBar({ socketPath, registry: session.registry, jobs: session.jobs, session, openManager: () => launchManager(), log });
    log(`serving the bar on ${socketPath}`);
    return server;
  } catch (error) {
    log(`not serving the bar on ${socketPath}: ${errorMessage(error)}`);
    return undefined;
  }
}

function parseBackendChoice(choice: string): WindowManagerChoice | "none" {
  if (choice === "auto" || choice === "sway" || choice === "i3" || choice === "none") return choice;
  throw new ClanError("InvalidArgument", `--backend must be auto, sway, i3 or none, not ${JSON.stringify(choice)}`);
}

/**
 * Attaches the sway or i3 that starts after clan-sessiond. Focus reported by the GNOME extension says which window
 * manager this session has, so none is waited for any more.
 */
function attachWindowManagerWhenItAppears(
  session: Session,
  choice: WindowManagerChoice,
  log: (message: string) => void,
  stopSearching: AbortController,
): void {
  const focusReportedOverDbus = (): void => {
    log("focus is reported over D-Bus (the GNOME extension): no longer waiting for sway or i3");
    stopSearching.abort();
  };
  session.once("focus-reported", focusReportedOverDbus);
  void waitForWindowManager(choice, log, stopSearching.signal)
    .then((found) => found && session.attachBackend(found))
    .catch((error: unknown) => log(`cannot attach to the window manager: ${errorMessage(error)}`))
    .finally(() => session.off("focus-reported", focusReportedOverDbus));
}

/** The window manager running now, attached before focus is first read; undefined when there is none yet. */
async function connectBackendNow(choice: WindowManagerChoice | "none", log: (message: string) => void): Promise<WindowManagerBackend | undefined> {
  if (choice === "none") {
    log("no window manager backend: focus is reported over D-Bus (WorkspaceFocused)");
    return undefined;
  }
  try {
    return await connectWindowManager(choice, log);
  } catch (error) {
    log(`no window manager yet: ${errorMessage(error)}; until one appears, only D-Bus (WorkspaceFocused) reports focus`);
    return undefined;
  }
}
