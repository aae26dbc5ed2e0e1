import { initialNetworkStatus, type NetworkStatus } from "../../src/shared/session-api.js";

// A network's status as clan-sessiond publishes it, for the bar's unit tests: a configured, stopped network
// backed up fine, with the fields a test cares about overridden.
export function networkStatus(overrides: Partial<NetworkStatus> = {}): NetworkStatus {
  return {
    ...initialNetworkStatus("family"),
    label: "Family",
    colour: "#2e7dbf",
    workspaces: ["3:family"],
    backupState: "ok",
    ...overrides,
  };
}
