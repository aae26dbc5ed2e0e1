import { Variant } from "@jellybrick/dbus-next";
import { describe, expect, it } from "vitest";
import { decodeWireNetworkStatus } from "../../../src/cli/wire/network-status-decoder.js";
import { NETWORK_STATUS_FIELDS } from "../../../src/cli/wire/network-status-fields.js";
import { WireVariant, type WireValue } from "../../../src/cli/wire/wire-values.js";
import { initialNetworkStatus, NetworkStatusDictionary, type NetworkStatus } from "../../../src/shared/session-api.js";

// clanctl's zod-free reading of a network status must agree with clan-sessiond's encoder field for field: a
// field added, renamed or retyped there fails here until the one-shot commands' table follows.

/** dbus-next's Variants as the wire reader gives them. */
function asWire(value: unknown): WireValue {
  if (value instanceof Variant) return new WireVariant(value.signature, asWire(value.value));
  if (Array.isArray(value)) return value.map(asWire);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asWire(v)]));
  return value as WireValue;
}

const SAMPLE: NetworkStatus = {
  ...initialNetworkStatus("family"),
  vmState: "running",
  workspaces: ["2:family", "7"],
  vpnPeers: 3,
  shares: [{ tag: "sync", path: "/home/u/Sync", readWrite: true, granted: false }],
  forwards: [{ hostPort: 8080, guestPort: 80 }],
  networkMode: "user",
};

const encodeNetworkStatus = (status: NetworkStatus) => NetworkStatusDictionary.toWire(status) as Record<string, Variant>;

describe("a network status read without zod", () => {
  it("has one entry per field of clan-sessiond's encoding, of the signature it sends", () => {
    const encoded = encodeNetworkStatus(SAMPLE);
    expect(Object.keys(NETWORK_STATUS_FIELDS).sort()).toEqual(Object.keys(encoded).sort());
    for (const [key, signature] of Object.entries(NETWORK_STATUS_FIELDS)) expect([key, encoded[key]!.signature]).toEqual([key, signature]);
  });

  it("gives back what clan-sessiond encoded, shares and forwards included", () => {
    expect(decodeWireNetworkStatus(asWire(encodeNetworkStatus(SAMPLE)))).toEqual(SAMPLE);
  });

  it("fills in what an older clan-sessiond does not send, and names a required field that is missing", () => {
    const { shares: _shares, forwards: _forwards, networkMode: _mode, ...older } = asWire(encodeNetworkStatus(SAMPLE)) as Record<string, WireValue>;
    expect(decodeWireNetworkStatus(older)).toMatchObject({ shares: [], forwards: [], networkMode: "" });
    const { vmState: _vmState, ...withoutState } = older;
    expect(() => decodeWireNetworkStatus(withoutState)).toThrow(`clan-sessiond sent a network status without "vmState": is it an older version?`);
  });

  it("names a field of the wrong type, in the status and inside a share", () => {
    const wire = asWire(encodeNetworkStatus(SAMPLE)) as Record<string, WireValue>;
    expect(() => decodeWireNetworkStatus({ ...wire, focused: new WireVariant("s", "yes") })).toThrow(`a network status whose "focused" is of type s, not b`);
    const share = { tag: new WireVariant("s", "x"), path: new WireVariant("u", 1), readWrite: new WireVariant("b", true), granted: new WireVariant("b", true) };
    expect(() => decodeWireNetworkStatus({ ...wire, shares: new WireVariant("aa{sv}", [share]) })).toThrow(`a share whose "path" is of type u, not s`);
    expect(() => decodeWireNetworkStatus("family")).toThrow("a network status that is not a dictionary");
  });
});
