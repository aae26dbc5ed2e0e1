import type { NetworkStatus } from "../../src/gnome-extension/core/network-status.js";

// Network statuses as clan-sessiond publishes them, for the extension's core tests.

export function network(name: string, change: Partial<NetworkStatus> = {}): NetworkStatus {
  return {
    name,
    label: name,
    colour: "#2e7dbf",
    workspaces: [],
    vmState: "stopped",
    generation: "",
    error: "",
    focused: false,
    backupState: "unknown",
    backupLastSuccess: 0,
    backupLastAttempt: 0,
    backupError: "",
    backupNextDue: 0,
    backupRepositorySize: -1,
    backupFreeSpace: -1,
    updateAvailable: false,
    buildState: "idle",
    buildProgress: -1,
    vpnState: "none",
    vpnPeers: 0,
    vpnLastHandshake: 0,
    ...change,
  };
}
