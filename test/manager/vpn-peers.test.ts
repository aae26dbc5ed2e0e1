import { describe, expect, it } from "vitest";
import { ManagerModel, type ManagerView } from "../../src/manager/manager-model.js";
import { vpnSection } from "../../src/manager/vpn-presentation.js";
import { SessionFeed } from "../../src/bar/session-feed.js";
import type { VpnPeerInfo } from "../../src/shared/vm-api.js";
import { networkStatus } from "../bar/network-status.js";
import { ScriptedNameWatch } from "../bar/scripted-session.js";
import { ScriptedManagerSession } from "./scripted-manager-session.js";

// The detail's VPN peers without GTK: what each peer row says (hostile names and endpoints shown safely), when the
// peers are read again, and block/unblock going to clan-sessiond.

const BOB: VpnPeerInfo = {
  name: "bob",
  publicKey: "k",
  endpoint: "192.0.2.7:51820",
  allowedIps: ["10.77.0.3/32"],
  lastHandshake: 0,
  receivedBytes: 0,
  sentBytes: 2048,
  blocked: false,
  connected: false,
};

const settle = () => new Promise((resolve) => setImmediate(resolve));
const vpnOf = (view: ManagerView) => (view.kind === "networks" ? view.vpn : undefined);

describe("the VPN peers of the shown network", () => {
  it("says each peer's state, handshake, addresses, endpoint and traffic, with what a peer supplied made safe", () => {
    const status = networkStatus({ vpnState: "up", vpnPeers: 0, networkMode: "vpn" });
    const hostile = { ...BOB, name: "bob\x1b]0;owned\x07\u202e", endpoint: "<b>x</b>" };
    const section = vpnSection(status, { ok: true, value: [hostile, { ...BOB, name: "carol", blocked: true }] }, 0);
    expect(section).toMatchObject({ shown: true, state: "up, 0 connected peers", note: "" });
    expect(section.peers[0]).toEqual({
      peer: hostile.name,
      title: "bob\\x1b]0;owned\\x07\\u202e",
      subtitle: "not connected · last handshake never · addresses 10.77.0.3/32 · endpoint <b>x</b> · 0 B received, 2.0 KiB sent",
      blocked: false,
    });
    expect(section.peers[1]).toMatchObject({ title: "carol", blocked: true, subtitle: expect.stringMatching(/^blocked · /) });
    expect(vpnSection(networkStatus(), undefined, 0)).toMatchObject({ shown: false, peers: [] });
    expect(vpnSection(status, { ok: false, error: "clan-vmd is not running" }, 0).note).toBe("cannot read the peers: clan-vmd is not running");
  });

  it("reads the peers when the network is chosen and when its VPN status changes, and blocks a peer through clan-sessiond", async () => {
    const session = new ScriptedManagerSession([networkStatus({ vpnState: "up", networkMode: "vpn" })]);
    session.peerLists.set("family", [BOB]);
    const watch = new ScriptedNameWatch(true);
    const feed = new SessionFeed<ScriptedManagerSession>({ watch: watch.watch, connect: async () => session, report: () => undefined });
    const model = new ManagerModel(feed, { report: () => undefined, now: () => 0 });
    await feed.start();
    model.select("family");
    await settle();
    expect(vpnOf(model.view())?.peers.map((peer) => peer.title)).toEqual(["bob"]);
    expect(session.peerReads).toBe(1);

    session.peerLists.set("family", [{ ...BOB, connected: true, lastHandshake: 5 }]);
    session.emitChanged(networkStatus({ vpnState: "up", networkMode: "vpn", vpnPeers: 1, vpnLastHandshake: 5 }));
    await settle();
    expect(session.peerReads).toBe(2);
    expect(vpnOf(model.view())?.peers[0]?.subtitle).toMatch(/^connected · /);

    model.setPeerBlocked("family", "bob", true);
    await settle();
    expect(session.calls).toContain('BlockPeer("family", "bob")');
    expect(session.peerReads).toBe(3);
    model.setPeerBlocked("family", "bob", false);
    await settle();
    expect(session.calls).toContain('UnblockPeer("family", "bob")');
    model.close();
  });
});
