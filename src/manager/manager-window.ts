import type { ApplicationsModel } from "./applications-model.js";
import { ApplicationsPage } from "./applications-page.js";
import type { ManagerGi } from "./gi.js";
import type { JoinModel } from "./join-job.js";
import { JoinPage } from "./join-page.js";
import type { ManagerModel, ManagerView } from "./manager-model.js";
import type { MonitoringModel } from "./monitoring-model.js";
import { MonitoringSectionView } from "./monitoring-view.js";
import { NetworkDetailView } from "./network-detail-view.js";
import { NetworksList } from "./networks-list.js";
import { NewNetworkPage, type NewNetworkModel } from "./new-network-page.js";

// The window: a status page while clan-sessiond is not on the bus; otherwise a leaflet with the networks list on
// the left and the selected network's detail on the right (one pane at a time when the window is narrow), or the
// join page, which "Join a network" opens in its place.

/* eslint-disable @typescript-eslint/no-explicit-any */
export class ManagerWindow {
  readonly window: any;
  private readonly missing: any;
  private readonly leaflet: any;
  private readonly list: NetworksList;
  private readonly detail: NetworkDetailView;
  private readonly detailPane: any;
  private readonly noSelection: any;
  private readonly detailScroller: any;
  private readonly detailTitle: any;
  private readonly joinPage: JoinPage;
  private readonly joinScroller: any;
  private readonly applications: ApplicationsPage;
  private readonly newNetworkPage: NewNetworkPage;
  private readonly newNetworkScroller: any;
  /** The New network page is shown in the detail pane, instead of a network. */
  private creating = false;
  /** The join page is shown in the detail pane, instead of a network. */
  private joining = false;
  private lastView: ManagerView = { kind: "sessiond-missing" };
  private readonly monitoringView: MonitoringSectionView;
  /** Whether the window system says the window is minimised (set once GTK is there to ask). */
  private minimised: () => boolean = () => false;

  constructor(
    gi: ManagerGi,
    app: any,
    private readonly model: ManagerModel,
    private readonly joinModel: JoinModel,
    private readonly applicationsModel: ApplicationsModel,
    private readonly newNetworkModel: NewNetworkModel,
    private readonly monitoring: MonitoringModel,
  ) {
    const { Adw, Gtk } = gi;
    this.window = new Adw.ApplicationWindow({ application: app, title: "Clan Manager", defaultWidth: 1000, defaultHeight: 760 });

    const missing = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL });
    missing.append(new Adw.HeaderBar({ titleWidget: new Adw.WindowTitle({ title: "Clan Manager" }) }));
    missing.append(
      new Adw.StatusPage({
        iconName: "network-offline-symbolic",
        title: "clan-sessiond is not running",
        description: "The networks, their VMs and backups are run by clan-sessiond. This window shows them as soon as it starts.",
        vexpand: true,
      }),
    );

    this.list = new NetworksList(gi, (name) => {
      model.select(name);
      applicationsModel.select(name);
      if (name !== undefined) this.joining = false;
      if (name !== undefined) this.creating = false;
      this.monitoring.setShown(this.isShown());
      if (name !== undefined) this.leaflet.setVisibleChild(this.detailPane);
    });
    const sidebar = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, widthRequest: 300 });
    const sidebarHeader = new Adw.HeaderBar({ titleWidget: new Adw.WindowTitle({ title: "Networks" }), showEndTitleButtons: false });
    const join = new Gtk.Button({ label: "Join a network" });
    join.on("clicked", () => this.openJoinPage());
    sidebarHeader.packStart(join);
    const create = new Gtk.Button({ label: "New network" });
    create.on("clicked", () => {
      this.joining = false;
      this.creating = true;
      this.monitoring.setShown(false);
      model.select(undefined);
      this.leaflet.setVisibleChild(this.detailPane);
      this.show(this.lastView);
    });
    sidebarHeader.packEnd(create);
    sidebar.append(sidebarHeader);
    sidebar.append(new Gtk.ScrolledWindow({ child: this.list.widget, vexpand: true, hscrollbarPolicy: Gtk.PolicyType.NEVER }));

    this.detail = new NetworkDetailView(gi, model);
    this.monitoringView = new MonitoringSectionView(gi, monitoring);
    // Right after "Virtual machine", the detail's first group.
    this.detail.widget.insertChildAfter(this.monitoringView.widget, this.detail.widget.getFirstChild());
    this.detailTitle = new Adw.WindowTitle({ title: "" });
    const back = new Gtk.Button({ iconName: "go-previous-symbolic", tooltipText: "Networks" });
    back.on("clicked", () => this.leaflet.setVisibleChild(sidebar));
    const detailHeader = new Adw.HeaderBar({ titleWidget: this.detailTitle, showStartTitleButtons: false });
    detailHeader.packStart(back);
    this.noSelection = new Adw.StatusPage({ iconName: "network-workgroup-symbolic", title: "Select a network", vexpand: true });
    this.applications = new ApplicationsPage(gi, applicationsModel);
    const detailAndApplications = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL });
    detailAndApplications.append(this.detail.widget);
    detailAndApplications.append(this.applications.widget);
    this.detailScroller = new Gtk.ScrolledWindow({ child: new Adw.Clamp({ child: detailAndApplications, maximumSize: 720 }), vexpand: true });
    this.joinPage = new JoinPage(gi, joinModel);
    this.joinScroller = new Gtk.ScrolledWindow({ child: new Adw.Clamp({ child: this.joinPage.widget, maximumSize: 720 }), vexpand: true });
    this.newNetworkPage = new NewNetworkPage(gi, newNetworkModel);
    this.newNetworkScroller = new Gtk.ScrolledWindow({ child: new Adw.Clamp({ child: this.newNetworkPage.widget, maximumSize: 720 }), vexpand: true });
    this.detailPane = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, hexpand: true });
    for (const child of [detailHeader, this.noSelection, this.detailScroller, this.joinScroller, this.newNetworkScroller]) this.detailPane.append(child);

    this.leaflet = new Adw.Leaflet({ canNavigateBack: true });
    this.leaflet.append(sidebar);
    const separator = this.leaflet.append(new Gtk.Separator({ orientation: Gtk.Orientation.VERTICAL }));
    separator.setNavigatable(false);
    this.leaflet.append(this.detailPane);
    // The back button and the window buttons of each pane only where the leaflet shows one pane at a time.
    const folded = () => {
      const isFolded = this.leaflet.getFolded();
      back.setVisible(isFolded);
      detailHeader.setShowStartTitleButtons(isFolded);
    };
    this.leaflet.on("notify::folded", folded);
    folded();

    this.missing = missing;
    const content = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL });
    for (const child of [missing, this.leaflet]) content.append(child);
    this.window.setContent(content);
    this.followVisibility(gi);
  }

  /**
   * Shows the join page in place of the detail; with a link handed over, that link in its entry (previewed, not
   * fetched), or the reason it was refused unread.
   */
  openJoinPage(handed?: { link: string } | { refused: string }): void {
    this.creating = false;
    this.joining = true;
    this.monitoring.setShown(false);
    this.model.select(undefined);
    this.leaflet.setVisibleChild(this.detailPane);
    if (handed !== undefined) this.joinPage.setLink("link" in handed ? handed.link : "");
    if (handed !== undefined && "refused" in handed) this.joinModel.refuse(handed.refused);
    this.show(this.lastView);
  }

  show(view: ManagerView): void {
    this.lastView = view;
    // Visibility rather than a Gtk.Stack: a stack's hidden pages stay in the accessibility tree as if shown.
    this.missing.setVisible(view.kind === "sessiond-missing");
    this.leaflet.setVisible(view.kind === "networks");
    if (view.kind === "sessiond-missing") return;
    this.list.show(view.rows, view.selected);
    this.joinScroller.setVisible(this.joining);
    this.newNetworkScroller.setVisible(this.creating);
    this.noSelection.setVisible(!this.joining && !this.creating && view.detail === undefined);
    this.detailScroller.setVisible(!this.joining && !this.creating && view.detail !== undefined);
    if (this.creating) {
      this.newNetworkPage.show(this.newNetworkModel.view());
      this.detailTitle.setTitle("New network");
      this.detailTitle.setSubtitle("");
      return;
    }
    if (this.joining) {
      this.joinPage.show(this.joinModel.view());
      this.detailTitle.setTitle("Join a network");
      this.detailTitle.setSubtitle("");
      return;
    }
    if (!view.detail || !view.vpn) {
      this.detailTitle.setTitle("");
      this.detailTitle.setSubtitle("");
      return;
    }
    this.detail.show(view.detail, view.vpn);
    this.applications.show(this.applicationsModel.view());
    this.monitoringView.show(this.monitoring.view());
    this.detailTitle.setTitle(view.detail.title);
    this.detailTitle.setSubtitle(view.detail.name);
  }

  /**
   * Figures are watched only while someone can see them: the window is mapped, not minimised, and shows a
   * network rather than the join page. Minimised is what the window system says: X11 window managers that
   * hide a window (i3's hidden tabs, iconified windows) do; sway 1.7 tells a Wayland client nothing of the kind.
   */
  private followVisibility(gi: ManagerGi): void {
    const changed = () => this.monitoring.setShown(this.isShown());
    this.window.on("map", changed);
    this.window.on("unmap", changed);
    this.window.on("realize", () => this.window.getSurface()?.on("notify::state", changed));
    this.minimised = () => ((this.window.getSurface()?.getState() ?? 0) & gi.Gdk.ToplevelState.MINIMIZED) !== 0;
  }

  private isShown(): boolean {
    return this.window.getMapped() && !this.minimised() && !this.joining && !this.creating;
  }
}
