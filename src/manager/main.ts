import { connectSessionBus, onBusError } from "../shared/bus.js";
import { SESSION_BUS_NAME } from "../shared/dbus-names.js";
import { errorMessage } from "../shared/errors.js";
import { watchName } from "../shared/name-watch.js";
import { SessionClient } from "../shared/session-client.js";
import { SessionFeed } from "../bar/session-feed.js";
import { ApplicationsModel } from "./applications-model.js";
import { loadManagerGi } from "./gi.js";
import { JoinModel } from "./join-job.js";
import { refusedByLinkSize } from "./join-presentation.js";
import { ManagerModel } from "./manager-model.js";
import { ManagerWindow } from "./manager-window.js";
import { parseManagerArguments } from "./manager-arguments.js";
import { joinWithoutWindow } from "./join-without-window.js";
import { NewNetworkModel } from "./new-network-page.js";
import { MonitoringModel, monitoredNetwork } from "./monitoring-model.js";

// clan-manager: the networks, their VMs, generations and backups in one window (docs/manager.md). A client of
// clan-sessiond only. One instance per session: starting it again presents the open window, on the join page
// with a link when given `--join LINK` (the link handler's desktop file). A second clan-manager hands the link
// over as the GApplication action "join" and ends at once: a remote command line would keep it waiting until the
// open one's GApplicationCommandLine is finalized (GLib 2.74), which node-gtk leaves to V8's collector.

const APPLICATION_ID = "org.clan.Desktop.Manager";
/** The action a second clan-manager activates in the open one with its link (a string). */
const JOIN_ACTION = "join";

export async function main(argv: string[]): Promise<void> {
  const { join } = parseManagerArguments(argv);
  const log = (message: string) => process.stderr.write(`clan-manager: ${message}\n`);
  let gi: Awaited<ReturnType<typeof loadManagerGi>>;
  try {
    gi = await loadManagerGi();
  } catch (error) {
    if (join === undefined) throw error;
    await joinWithoutWindow(join, errorMessage(error), log);
    return;
  }
  const { Adw, Gio, GLib } = gi;
  GLib.setPrgname("clan-manager");
  GLib.setApplicationName("Clan Manager");
  const app = new Adw.Application({ applicationId: APPLICATION_ID, flags: Gio.ApplicationFlags.FLAGS_NONE });
  let window: ManagerWindow | undefined;

  const start = () => {
    const bus = connectSessionBus();
    onBusError(bus, (error) => {
      log(`lost the session bus: ${error.message}`);
      process.exitCode = 1;
      app.quit();
    });
    const feed = new SessionFeed<SessionClient>({
      watch: (handlers) => watchName(bus, SESSION_BUS_NAME, handlers),
      connect: () => SessionClient.connect(bus),
      report: log,
    });
    const model = new ManagerModel(feed, { report: log, now: Date.now });
    const joinModel = new JoinModel();
    const applicationsModel = new ApplicationsModel(() => feed.session);
    const newNetworkModel = new NewNetworkModel(() => feed.session);
    const monitoring = new MonitoringModel(log);
    // Monitoring follows the clan-sessiond on the bus and the selected network's VM.
    model.on("changed", () => {
      monitoring.follow(feed.session);
      const state = feed.state;
      const view = model.view();
      monitoring.showNetwork(state.kind === "networks" && view.kind === "networks" ? monitoredNetwork(state.networks, view.selected) : undefined);
    });
    const shown = new ManagerWindow(gi, app, model, joinModel, applicationsModel, newNetworkModel, monitoring);
    // Several changes in one turn (a list read, then its signals) are drawn once, when GTK is idle.
    let queued = false;
    const redraw = () => {
      if (queued) return;
      queued = true;
      GLib.idleAdd(GLib.PRIORITY_DEFAULT_IDLE, () => {
        queued = false;
        shown.show(model.view());
        return false;
      });
    };
    model.on("changed", redraw);
    joinModel.on("changed", redraw);
    applicationsModel.on("changed", redraw);
    newNetworkModel.on("changed", redraw);
    monitoring.on("changed", redraw);
    shown.show(model.view());
    shown.window.present();
    feed.start().catch((error: unknown) => log(`cannot follow clan-sessiond: ${errorMessage(error)}`));
    app.on("shutdown", () => {
      monitoring.close();
      model.close();
      bus.disconnect();
    });
    return shown;
  };

  app.on("activate", () => {
    try {
      window ??= start();
      window.window.present();
    } catch (error) {
      // node-gtk drops what a signal handler throws: the manager ends, naming the cause.
      log(`cannot open the window: ${errorMessage(error)}`);
      process.exitCode = 1;
      app.quit();
    }
  });
  // Any program of the session may activate it with any text: the link is only previewed on the join page.
  const joinAction = new Gio.SimpleAction({ name: JOIN_ACTION, parameterType: new GLib.VariantType("s") });
  joinAction.on("activate", (parameter: { getSize(): bigint; getString(): [string, number] }) => {
    app.activate();
    // The variant's size is the link's bytes and a NUL: a text too big for a link is refused by that size, never
    // copied into JS (megabytes in the entry would only slow the window).
    const refused = refusedByLinkSize(Number(parameter.getSize()) - 1);
    window?.openJoinPage(refused === undefined ? { link: parameter.getString()[0] } : { refused });
  });
  app.addAction(joinAction);
  app.register(null);
  if (app.getIsRemote()) {
    if (join === undefined) app.activate();
    else app.activateAction(JOIN_ACTION, GLib.Variant.newString(join));
    // Both are D-Bus messages to the open clan-manager, sent without waiting for an answer: out before this ends.
    app.getDbusConnection().flushSync(null);
    return;
  }
  if (join !== undefined) app.activateAction(JOIN_ACTION, GLib.Variant.newString(join));
  // GLib's main loop runs the process: Node's own signal handlers would not get to run.
  for (const signal of [2, 15]) {
    GLib.unixSignalAdd(GLib.PRIORITY_DEFAULT, signal, () => {
      app.quit();
      return false;
    });
  }
  // The link, if any, is shown already: GApplication is given no arguments to parse.
  app.run(["clan-manager"]);
}
