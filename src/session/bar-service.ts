import { dirname } from "node:path";
import { BarServer } from "../bar/bar-server.js";
import type { BarActions } from "../bar/click-handler.js";
import { ClanError } from "../shared/errors.js";
import { requirePrivateDirectory } from "../shared/private-directory.js";
import type { SessionJobs } from "./jobs/session-jobs.js";
import type { NetworkRegistry } from "./network-registry.js";

// clan-sessiond serves the status bar itself (src/bar/bar-server.ts): the bar's process is then a relay of a few
// MiB instead of a Node process per bar. The bars see what D-Bus clients see — the registry's statuses, sent the
// moment they change — and a click acts through the same calls as the D-Bus API.

export interface BarServiceDependencies {
  socketPath: string;
  registry: Pick<NetworkRegistry, "get" | "list" | "on">;
  jobs: Pick<SessionJobs, "startRebuild" | "startRollback">;
  session: { switchTo(network: string): Promise<void> };
  /** Opens the manager window in the user's session (manager-launch.ts). */
  openManager(): Promise<void>;
  log(message: string): void;
}

export async function serveBar(deps: BarServiceDependencies): Promise<BarServer> {
  const { registry, jobs, session } = deps;
  const known = (name: string): string => {
    const status = registry.get(name);
    if (!status) throw new ClanError("UnknownNetwork", `no network named ${JSON.stringify(name)} in the config`);
    return status.name;
  };
  const actions: BarActions = {
    switchTo: async (name) => session.switchTo(known(name)),
    startRebuild: async (name) => (await jobs.startRebuild(known(name))).id,
    startRollback: async (name, to) => (await jobs.startRollback(known(name), to === undefined || to < 0 ? undefined : to)).id,
    openManager: () => deps.openManager(),
  };
  // Only this user may enter the directory, so only this user's processes reach the socket.
  requirePrivateDirectory(dirname(deps.socketPath));
  const server = await BarServer.listen({
    socketPath: deps.socketPath,
    state: () => ({ kind: "networks", networks: [...registry.list()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) }),
    actions,
    report: deps.log,
  });
  registry.on("changed", () => server.publish());
  registry.on("list-changed", () => server.publish());
  return server;
}
