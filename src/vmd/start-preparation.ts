import { errorMessage } from "../shared/errors.js";
import type { DecodedVmStartOptions } from "../shared/vm-api.js";
import type { HostCapacity } from "./host-access.js";
import type { PreparedStoreViews } from "./prepared-store-views.js";
import { shareOwner } from "./share-daemons.js";
import { checkStart } from "./start-checks.js";
import { StartTimings } from "./start-timings.js";
import { isStoreShare } from "./store-view.js";
import { vmIdentity } from "./vm-identity.js";
import type { VmPaths } from "./vm-paths.js";

// PrepareStart (docs/dbus.md): what a generation's first start would otherwise do on its critical path, done as soon
// as the generation becomes the network's current one. The generation is checked exactly as Start checks it, and
// refused with the same error; its store view is then prepared in the background (prepared-store-views.ts), so
// that the start finds it. A preparation that fails costs nothing but the log line: the start prepares again.

export interface StartPreparation {
  network: string;
  paths: VmPaths;
  generationPath: string;
  options: DecodedVmStartOptions;
  hostCapacity: HostCapacity;
  storeViews: PreparedStoreViews;
  log: (message: string) => void;
}

/** Resolves once the generation passed Start's checks; its view is prepared after that, in the background. */
export async function prepareStart({ network, paths, generationPath, options, hostCapacity, storeViews, log }: StartPreparation): Promise<void> {
  const identity = vmIdentity(paths.runtimeDir);
  const generation = await checkStart({ network, generationPath, options, hostCapacity, identity });
  const storeShare = generation.vm.shares.find(isStoreShare);
  if (!storeShare) {
    // Its next start needs no view: the one the network kept would only take memory.
    storeViews.release(network);
    return;
  }
  const owner = await shareOwner(generation, storeShare, identity);
  const startedAt = performance.now();
  storeViews.prepareAhead({ network, generationDir: generation.resolvedPath, owner, timings: new StartTimings() }).then(
    ({ prepared }) => {
      const took = `${(performance.now() - startedAt).toFixed(0)} ms`;
      log(`${network}: store view of ${generation.resolvedPath} ${prepared ? `prepared ahead of its start in ${took}` : "was prepared already"}`);
    },
    (error: unknown) => log(`${network}: cannot prepare the store view of ${generation.resolvedPath} ahead of its start (its start will try again): ${errorMessage(error)}`),
  );
}
