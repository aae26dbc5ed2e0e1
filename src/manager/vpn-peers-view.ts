import type { ManagerGi } from "./gi.js";
import { RowGroup, setSubtitle, textRow } from "./row-group.js";
import type { VpnPeerRow, VpnSection } from "./vpn-presentation.js";

// The detail's VPN group: the network's VPN on this host, then one row per peer with Block or Unblock.

/* eslint-disable @typescript-eslint/no-explicit-any */
type PeerItem = { kind: "note"; text: string } | { kind: "peer"; peer: VpnPeerRow };

export class VpnPeersView {
  private readonly stateGroup: any;
  private readonly stateRow: any;
  private readonly peers: RowGroup<PeerItem>;
  private network = "";
  /** Each peer row's Block or Unblock button, which keeps the keyboard focus when the row is rebuilt. */
  private readonly buttons = new WeakMap<object, any>();

  constructor(
    private readonly gi: ManagerGi,
    private readonly setBlocked: (network: string, peer: string, blocked: boolean) => void,
  ) {
    this.stateGroup = new gi.Adw.PreferencesGroup({ title: "VPN" });
    this.stateRow = textRow(gi, "VPN state");
    this.stateGroup.add(this.stateRow);
    this.peers = new RowGroup<PeerItem>(gi, "VPN peers", "no peers", (item) => (item.kind === "note" ? textRow(gi, item.text) : this.peerRow(item.peer)), {
      key: (item) => (item.kind === "peer" ? item.peer.peer : ""),
      target: (row) => this.buttons.get(row),
    });
  }

  get widgets(): any[] {
    return [this.stateGroup, this.peers.widget];
  }

  show(network: string, vpn: VpnSection): void {
    this.network = network;
    for (const widget of this.widgets) widget.setVisible(vpn.shown);
    setSubtitle(this.stateRow, vpn.state);
    this.peers.show(vpn.note ? [{ kind: "note", text: vpn.note }] : vpn.peers.map((peer) => ({ kind: "peer", peer })));
  }

  private peerRow(peer: VpnPeerRow): any {
    const { Gtk } = this.gi;
    const row = textRow(this.gi, peer.title, peer.subtitle);
    const button = new Gtk.Button({ label: peer.blocked ? "Unblock" : "Block", valign: Gtk.Align.CENTER });
    if (!peer.blocked) button.addCssClass("destructive-action");
    button.on("clicked", () => this.setBlocked(this.network, peer.peer, !peer.blocked));
    row.addSuffix(button);
    this.buttons.set(row, button);
    return row;
  }
}
