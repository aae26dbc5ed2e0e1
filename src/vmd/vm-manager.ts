import { EventEmitter } from "node:events";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ClanError } from "../shared/errors.js";
import { describeNameProblem } from "../shared/network-name.js";
import type { DecodedVmStartOptions, VmStatus } from "../shared/vm-api.js";
import { prepareStart } from "./start-preparation.js";
import { VmSupervisor } from "./supervisor.js";
import type { SupervisorDependencies } from "./supervisor-dependencies.js";
import { DISPLAY_BUS_SUFFIX, vmPaths, type VmdDirectories } from "./vm-paths.js";

// The set of supervisors, one per network, created on first use. A failure of one VM never touches another.

export interface VmManagerEvents {
  status: [VmStatus];
  /** A supervisor was created: D-Bus exports an object for it. */
  added: [VmSupervisor];
}

export class VmManager extends EventEmitter<VmManagerEvents> {
  private readonly supervisors = new Map<string, VmSupervisor>();

  constructor(
    private readonly directories: VmdDirectories,
    private readonly deps: SupervisorDependencies,
  ) {
    super();
  }

  list(): VmStatus[] {
    return [...this.supervisors.values()].map((s) => s.status).sort((a, b) => a.network.localeCompare(b.network));
  }

  /** The supervisor of a network, created when `create` is set; otherwise an unknown network is an error. */
  supervisor(network: string, { create = false } = {}): VmSupervisor {
    const problem = describeNameProblem(network);
    if (problem) throw new ClanError("InvalidArgument", problem);
    let supervisor = this.supervisors.get(network);
    if (!supervisor) {
      if (!create) throw new ClanError("UnknownNetwork", `no VM is known for network ${network}`);
      supervisor = new VmSupervisor(network, vmPaths(this.directories, network), this.deps);
      supervisor.on("status", (status) => this.emit("status", status));
      this.supervisors.set(network, supervisor);
      this.emit("added", supervisor);
    }
    return supervisor;
  }

  start(network: string, generationPath: string, options: DecodedVmStartOptions = { shareGrants: [] }): Promise<VmStatus> {
    return this.supervisor(network, { create: true }).start(generationPath, options);
  }

  /** Checks `generationPath` as Start would, then prepares its start in the background (start-preparation.ts). */
  prepareStart(network: string, generationPath: string, options: DecodedVmStartOptions = { shareGrants: [] }): Promise<void> {
    const problem = describeNameProblem(network);
    if (problem) throw new ClanError("InvalidArgument", problem);
    const { hostCapacity, storeViews, log } = this.deps;
    return prepareStart({ network, paths: vmPaths(this.directories, network), generationPath, options, hostCapacity, storeViews, log });
  }

  /** The network left the user's config: the store view it kept for its next start ends unless another keeps it. */
  releaseStoreView(network: string): void {
    const problem = describeNameProblem(network);
    if (problem) throw new ClanError("InvalidArgument", problem);
    this.deps.storeViews.release(network);
  }

  async stopAll(): Promise<VmStatus[]> {
    return Promise.all([...this.supervisors.values()].map((s) => s.stop()));
  }

  /** Re-adopts VMs a previous clan-vmd left running; returns the networks adopted. */
  async adoptAll(): Promise<string[]> {
    const entries = await readdir(this.directories.runtimeRoot, { withFileTypes: true }).catch(() => []);
    const adopted: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.endsWith(DISPLAY_BUS_SUFFIX)) continue;
      if (describeNameProblem(entry.name)) {
        this.deps.log(`ignoring ${join(this.directories.runtimeRoot, entry.name)}: not a network's runtime directory`);
        continue;
      }
      if (await this.supervisor(entry.name, { create: true }).adopt()) adopted.push(entry.name);
    }
    return adopted;
  }
}
