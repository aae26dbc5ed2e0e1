import type { NetworkStatus } from "../../../src/shared/session-api.js";

// A network's status as clan-sessiond publishes it, for the bar's unit tests: defaults of a configured,
// stopped network, with the fields a test cares about overridden.
export function networkStatus(overrides: Partial<NetworkStatus> = {}): NetworkStatus {
  return {
    name: "family",
    label: "Family",
    colour: "#2e7dbf",
    workspaces: ["3:family"],
    vmState: "stopped",
    generation: "",
    error: "",
    focused: false,
    backupState: "ok",
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
    ...overrides,
  };
}
