import type { NetworkStatus } from "../../src/gnome-extension/core/network-status.js";
import { initialNetworkStatus } from "../../src/shared/session-api.js";

// Network statuses as clan-sessiond publishes them (its own defaults), for the extension's core tests.

export function network(name: string, change: Partial<NetworkStatus> = {}): NetworkStatus {
  return { ...initialNetworkStatus(name), colour: "#2e7dbf", ...change };
}
