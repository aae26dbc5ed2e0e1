import { describe, expect, it } from "vitest";
import { buildMenuModel, type MenuInput } from "../../src/gnome-extension/core/menu-model.js";
import { buildWorkspaceMap } from "../../src/gnome-extension/core/workspace-map.js";
import { network } from "./fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const TODAY_METHODS = new Set(["ListNetworks", "GetNetwork", "Start", "Stop", "Pause", "Switch", "WorkspaceFocused", "ReloadConfig"]);

function input(change: Partial<MenuInput> = {}): MenuInput {
  const networks = change.networks ?? [
    network("family", { label: "Family", workspaces: ["2:family"], sourceKind: "flake", vmState: "running", focused: true, generation: "/nix/var/profiles/family-7-link", backupState: "ok", backupLastSuccess: NOW - 3 * 3600_000, backupNextDue: NOW + 3600_000 }),
    network("club", { workspaces: ["club"], sourceKind: "flake", updateAvailable: true, buildState: "building", buildProgress: 0.42 }),
  ];
  const workspaceNumbers = new Map([["family", 2]]);
  return { connected: true, networks, configError: "", availableMethods: TODAY_METHODS, workspaces: buildWorkspaceMap(networks), workspaceNumbers, generationCounts: new Map(), nowMs: NOW, ...change };
}

describe("the panel menu model", () => {
  it("has one section per network, sorted by name, with state, generation, backup age, update and build progress", () => {
    const model = buildMenuModel(input());
    expect(model.sections.map((section) => section.network)).toEqual(["club", "family"]);
    const [club, family] = model.sections;
    expect(family).toMatchObject({
      title: "Family · workspace 2 · focused",
      status: "running",
      level: "ok",
      lines: ["VM: running", "Generation: family-7-link", "Backup: backed up, last success 3 h ago"],
    });
    // A stopped VM runs no generation: no "Generation: none" line.
    expect(club).toMatchObject({
      title: "club · no GNOME workspace",
      status: "building",
      level: "busy",
      lines: ["VM: stopped", "Backup: not configured", "Update available", "Building 42 %…"],
    });
    expect(model.notices).toEqual(['club: workspace "club" has no number, so no GNOME workspace']);
  });

  it("shows the network's VPN: peers and last handshake while up, where it runs otherwise", () => {
    const vpnLine = (change: Parameters<typeof network>[1]) =>
      buildMenuModel(input({ networks: [network("family", change)] })).sections[0]!.lines.find((line) => line.startsWith("VPN"));
    expect(vpnLine({})).toBeUndefined();
    expect(vpnLine({ vpnState: "up", vpnPeers: 2, vpnLastHandshake: NOW - 40_000 })).toBe("VPN: up, 2 peers, last handshake 40 s ago");
    expect(vpnLine({ vpnState: "up", vpnPeers: 0, vpnLastHandshake: 0 })).toBe("VPN: up, 0 peers, no handshake yet");
    expect(vpnLine({ vpnState: "in-guest" })).toBe("VPN: in the guest");
    expect(vpnLine({ vpnState: "down" })).toBe("VPN: down");
  });

  it("shows the generation's network mode, each share with its access and grant, and each port forward", () => {
    const family = network("family", {
      networkMode: "user",
      shares: [
        { tag: "sync", path: "/home/u/Sync", readWrite: true, granted: true },
        { tag: "ssh", path: "/home/u/.ssh", readWrite: false, granted: false },
      ],
      forwards: [{ hostPort: 8080, guestPort: 80 }],
    });
    const lines = buildMenuModel(input({ networks: [family] })).sections[0]!.lines;
    expect(lines.slice(lines.indexOf("Network: user"))).toEqual([
      "Network: user",
      "Share sync: /home/u/Sync (read-write)",
      "Share ssh: /home/u/.ssh (read-only, not granted: will not start)",
      "Forward: host port 8080 → guest port 80",
    ]);
    expect(buildMenuModel(input({ networks: [network("club")] })).sections[0]!.lines.some((line) => line.startsWith("Network"))).toBe(false);
  });

  it("makes rebuild, roll back and back up insensitive while clan-sessiond lacks their methods, saying why", () => {
    const family = buildMenuModel(input()).sections[1]!;
    expect(family.actions.map((a) => [a.id, a.sensitive, a.hint])).toEqual([
      ["switch", true, ""],
      ["rebuild", false, "needs a clan-sessiond with StartRebuild"],
      ["rollback", false, "needs a clan-sessiond with StartRollback"],
      ["backup", false, "needs a clan-sessiond with StartBackup"],
      ["stop", true, ""],
    ]);
  });

  it("enables them once the methods exist, except while the same kind of job runs", () => {
    const methods = new Set([...TODAY_METHODS, "StartRebuild", "StartRollback", "StartBackup"]);
    const [club, family] = buildMenuModel(input({ availableMethods: methods })).sections;
    expect(family!.actions.every((action) => action.sensitive)).toBe(true);
    expect(club!.actions.filter((a) => !a.sensitive).map((a) => [a.id, a.hint])).toEqual([
      ["switch", "none of its workspaces has a number"],
      ["rebuild", "a rebuild or rollback is running"],
      ["rollback", "a rebuild or rollback is running"],
      ["backup", "no backup is configured"],
      ["stop", "the VM is not running"],
    ]);
  });

  it("shows the job running on a network with its phase and progress, and blocks starting the same kind again", () => {
    const methods = new Set([...TODAY_METHODS, "StartRebuild", "StartRollback", "StartBackup"]);
    const backingUp = network("family", { workspaces: ["2:family"], sourceKind: "flake", backupNextDue: NOW + 3600_000, jobId: "backup-family-1", jobKind: "backup", jobPhase: "storing the copy in the repository", jobProgress: 0.4 });
    const section = buildMenuModel(input({ networks: [backingUp], workspaces: buildWorkspaceMap([backingUp]), availableMethods: methods })).sections[0]!;
    expect(section.lines).toContain("Backing up: storing the copy in the repository 40 %…");
    expect(section.actions.filter((a) => !a.sensitive).map((a) => [a.id, a.hint])).toEqual([
      ["backup", "a backup is running"],
      ["stop", "the VM is not running"],
    ]);
    const rollingBack = network("family", { workspaces: ["2:family"], jobId: "rollback-family-2", jobKind: "rollback", jobPhase: "booting generation 3", jobProgress: -1 });
    const lines = buildMenuModel(input({ networks: [rollingBack], workspaces: buildWorkspaceMap([rollingBack]) })).sections[0]!.lines;
    expect(lines).toContain("Rolling back: booting generation 3…");
  });

  it("offers no action that cannot work: rebuild of a profile, back up without a backup, roll back with one generation", () => {
    const methods = new Set([...TODAY_METHODS, "StartRebuild", "StartRollback", "StartBackup", "Generations"]);
    const networks = [network("a", { workspaces: ["1"], sourceKind: "profile", vmState: "running" })];
    const actions = (counts: Map<string, number>) =>
      buildMenuModel(input({ networks, workspaces: buildWorkspaceMap(networks), availableMethods: methods, generationCounts: counts })).sections[0]!.actions;
    expect(actions(new Map([["a", 1]])).filter((a) => !a.sensitive).map((a) => [a.id, a.hint])).toEqual([
      ["rebuild", "it boots a fixed profile: rebuilding needs a flake source"],
      ["rollback", "there is no previous generation"],
      ["backup", "no backup is configured"],
    ]);
    expect(actions(new Map([["a", 2]])).find((a) => a.id === "rollback")?.sensitive).toBe(true);
  });

  it("says when a network's workspace is gone and will be made on entry", () => {
    const model = buildMenuModel(input({ workspaceNumbers: new Map() }));
    expect(model.sections[1]!.title).toBe("Family · workspace made on entry · focused");
    expect(model.sections[1]!.actions[0]).toMatchObject({ id: "switch", sensitive: true });
  });

  it("says when clan-sessiond is not running, and shows no stale networks", () => {
    const model = buildMenuModel(input({ connected: false }));
    expect(model.summary.text).toBe("clan-sessiond is not running");
    expect(model.sections).toEqual([]);
  });

  it("shows a rejected config and a failed VM's cause", () => {
    const networks = [network("a", { workspaces: ["1"], vmState: "failed", error: "QEMU exited with 1" })];
    const model = buildMenuModel(input({ networks, workspaces: buildWorkspaceMap(networks), configError: "networks.a.colour: bad" }));
    expect(model.notices).toEqual(["Config error (the last good config is in force): networks.a.colour: bad"]);
    expect(model.sections[0]!.lines).toContain("VM failed: QEMU exited with 1");
    expect(model.summary).toMatchObject({ level: "error", text: "a: VM failed: QEMU exited with 1" });
  });
});
