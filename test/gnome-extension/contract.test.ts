import { describe, expect, it } from "vitest";
import { decodeNetworkStatus } from "../../src/gnome-extension/core/network-status.js";
import * as core from "../../src/gnome-extension/core/session-contract.js";
import { NETWORK_STATUS_FIELDS } from "../../src/gnome-extension/core/session-contract.js";
import * as shared from "../../src/shared/dbus-names.js";
import { NetworkStatus, NetworkStatusDictionary } from "../../src/shared/session-api.js";
import { Variant } from "@jellybrick/dbus-next";
import { network } from "./fixtures.js";

// The extension cannot import src/shared inside GNOME Shell, so it keeps copies; these tests keep them equal.

describe("the extension's copy of clan-sessiond's D-Bus contract", () => {
  it("uses the same bus name, object path and interface", () => {
    expect(core.SESSION_BUS_NAME).toBe(shared.SESSION_BUS_NAME);
    expect(core.SESSION_MANAGER_PATH).toBe(shared.SESSION_MANAGER_PATH);
    expect(core.SESSION_MANAGER_INTERFACE).toBe(shared.SESSION_MANAGER_INTERFACE);
  });

  it("knows every field of NetworkStatus, and no other", () => {
    expect(Object.keys(NETWORK_STATUS_FIELDS).sort()).toEqual(Object.keys(NetworkStatus.shape).sort());
  });

  it("decodes what clan-sessiond encodes, after unpacking the variants as GJS does", () => {
    const status = NetworkStatus.parse(
      network("family", {
        workspaces: ["2:family"],
        vmState: "running",
        backupLastSuccess: 1700000000000,
        buildProgress: 0.5,
        shares: [{ tag: "sync", path: "/home/u/Sync", readWrite: false, granted: true }],
        forwards: [{ hostPort: 8080, guestPort: 80 }],
        networkMode: "user",
      }),
    );
    expect(decodeNetworkStatus(recursiveUnpack(NetworkStatusDictionary.toWire(status)))).toEqual(status);
  });
});

/** What GLib.Variant.recursiveUnpack() gives: every variant, at every depth, replaced by its value. */
function recursiveUnpack(value: unknown): unknown {
  if (value instanceof Variant) return recursiveUnpack(value.value);
  if (Array.isArray(value)) return value.map(recursiveUnpack);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, recursiveUnpack(item)]));
  return value;
}

describe("decodeNetworkStatus", () => {
  it("rejects a field of the wrong type, naming it", () => {
    expect(() => decodeNetworkStatus({ ...network("a"), workspaces: "2:a" })).toThrow(/workspaces must be string\[\]/);
    expect(() => decodeNetworkStatus({ ...network("a"), buildProgress: Number.NaN })).toThrow(/buildProgress/);
    expect(() => decodeNetworkStatus(["a"])).toThrow(/not a dictionary/);
    expect(() => decodeNetworkStatus({ ...network("a"), shares: [{ tag: "s", path: "/p", readWrite: "yes", granted: true }] })).toThrow(/shares must be share\[\]/);
    expect(() => decodeNetworkStatus({ ...network("a"), forwards: [{ hostPort: "80", guestPort: 80 }] })).toThrow(/forwards must be forward\[\]/);
  });

  it("fills the slots an older clan-sessiond does not send, and keeps states it does not know", () => {
    const decoded = decodeNetworkStatus({ name: "a", label: "", colour: "#000000", workspaces: [], vmState: "hibernating" });
    expect(decoded).toMatchObject({ label: "a", vmState: "hibernating", backupState: "unknown", buildProgress: -1 });
  });

  it("cuts long texts, so a guest's error message cannot grow the menu without bound", () => {
    expect(decodeNetworkStatus({ ...network("a"), error: "x".repeat(10_000) }).error).toHaveLength(512);
    const share = { tag: "t", path: `/${"x".repeat(10_000)}`, readWrite: false, granted: false };
    expect(decodeNetworkStatus({ ...network("a"), shares: [share] }).shares[0]?.path).toHaveLength(512);
  });
});
