import { describe, expect, it } from "vitest";
import { networkLevel, summarise } from "../../src/gnome-extension/core/summary.js";
import { network } from "./fixtures.js";

describe("the panel icon's summary", () => {
  it("says clan-sessiond is not running before anything else", () => {
    expect(summarise({ connected: false, networks: [network("a", { vmState: "failed" })], configError: "" })).toEqual({
      level: "offline",
      iconName: "network-vpn-disabled-symbolic",
      text: "clan-sessiond is not running",
    });
  });

  it("shows the worst state of all networks and names the network that causes it", () => {
    const networks = [
      network("club", { vmState: "running" }),
      network("family", { label: "Family", vmState: "running", backupState: "failed" }),
      network("work", { buildState: "building" }),
    ];
    expect(summarise({ connected: true, networks, configError: "" })).toEqual({
      level: "error",
      iconName: "dialog-error-symbolic",
      text: "Family: backup failed",
    });
  });

  it("counts running networks when all is well", () => {
    const networks = [network("a", { vmState: "running" }), network("b", { vmState: "paused" })];
    expect(summarise({ connected: true, networks, configError: "" })).toMatchObject({ level: "ok", text: "2 networks, 1 running" });
    expect(summarise({ connected: true, networks: [], configError: "" }).text).toBe("no networks configured");
  });

  it("shows an available update with its own icon, not the warning of an overdue backup", () => {
    const update = summarise({ connected: true, networks: [network("a", { updateAvailable: true })], configError: "" });
    const overdue = summarise({ connected: true, networks: [network("a", { backupState: "overdue" })], configError: "" });
    expect(update).toEqual({ level: "update", iconName: "software-update-available-symbolic", text: "a: update available" });
    expect(overdue).toMatchObject({ level: "attention", iconName: "dialog-warning-symbolic" });
  });

  it("raises a rejected config edit to attention", () => {
    const summary = summarise({ connected: true, networks: [network("a")], configError: "bad colour" });
    expect(summary).toMatchObject({ level: "attention", iconName: "dialog-warning-symbolic", text: "config error: the last good config is in force" });
  });

  it.each([
    [{ vmState: "failed" }, "error"],
    [{ buildState: "failed" }, "error"],
    [{ vmState: "unavailable" }, "attention"],
    [{ vmState: "from-the-future" }, "attention"],
    [{ backupState: "overdue" }, "attention"],
    [{ updateAvailable: true }, "update"],
    [{ vmState: "starting" }, "busy"],
    [{ backupState: "running" }, "busy"],
    [{ vmState: "paused", backupState: "ok" }, "ok"],
  ] as const)("a network with %o is at level %s", (change, level) => {
    expect(networkLevel(network("a", change))).toBe(level);
  });
});
