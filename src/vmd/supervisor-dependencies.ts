import type { HostCapacity } from "./host-access.js";
import type { PreparedStoreViews } from "./prepared-store-views.js";
import type { Accelerator } from "./qemu-command.js";
import type { StopTimeouts } from "./stop-escalation.js";

// What clan-vmd gives every network's supervisor (supervisor.ts): its binaries, its policies and what the networks
// share (the prepared store views, the accelerator's probe).

export interface SupervisorDependencies {
  qemuBinary: string;
  virtiofsdBinary: string;
  /** Runs each dbus-display VM's own bus (display-bus.ts). */
  dbusDaemonBinary: string;
  /** The store views already prepared, shared by every network of this clan-vmd. */
  storeViews: PreparedStoreViews;
  chooseAccelerator: (kernel: string) => Promise<Accelerator>;
  stopTimeouts: StopTimeouts;
  log: (message: string) => void;
  /** Details only a developer wants (each start's timings): logged when CLAN_DEBUG is set. */
  debugLog: (message: string) => void;
  wireguardGoBinary: string;
  yggdrasilBinary: string;
  /** Whether this clan-vmd may create network namespaces for VPNs (docs/vpn.md). */
  canCreateNamespaces: boolean;
  /** What a generation may take of this host's memory and cores (host-access.ts). */
  hostCapacity: HostCapacity;
}
