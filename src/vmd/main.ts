import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { claimName, connectSessionBus, onBusError } from "../shared/bus.js";
import { VMD_BUS_NAME } from "../shared/dbus-names.js";
import { errorMessage } from "../shared/errors.js";
import { logger } from "../shared/log.js";
import { keepServingAfterUnexpectedErrors } from "../shared/run-main.js";
import { chooseAccelerator, parseAcceleratorOverride } from "./accelerator-probe.js";
import { exportVmdApi } from "./dbus-service.js";
import { DEFAULT_GENERATION_MEMORY_PERCENT } from "./host-access.js";
import type { Accelerator } from "./qemu-command.js";
import { DEFAULT_STOP_TIMEOUTS } from "./stop-escalation.js";
import { VmManager } from "./vm-manager.js";
import { PreparedStoreViews } from "./prepared-store-views.js";
import { ClosureCache } from "./closure-cache.js";
import { claimPrivateDirectory } from "./runtime-directory.js";
import { defaultDirectories, sharedRuntimeFallback } from "./vm-paths.js";
import { canCreateNamespaces } from "./vpn/namespace.js";

const USAGE = `usage: clan-vmd [--runtime-dir DIR] [--state-dir DIR] [--accel kvm|tcg|auto] [--powerdown-timeout SECONDS]
                [--stop-vms-on-exit] [--generation-memory-percent N]

Owns the network VMs of this session and serves org.clan.Desktop.VMs1 on the session bus.
By default VMs keep running when clan-vmd exits, and the next clan-vmd re-adopts them.
A generation may ask for at most N % of this host's memory (default ${DEFAULT_GENERATION_MEMORY_PERCENT}) and its cores; the
user's config override (networks.NET.vm) may give a network up to all of it.`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "runtime-dir": { type: "string" },
      "state-dir": { type: "string" },
      accel: { type: "string" },
      "powerdown-timeout": { type: "string" },
      "stop-vms-on-exit": { type: "boolean", default: false },
      "generation-memory-percent": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const log = logger("clan-vmd");
  const defaults = defaultDirectories(process.env);
  const directories = {
    runtimeRoot: values["runtime-dir"] ?? defaults.runtimeRoot,
    stateRoot: values["state-dir"] ?? defaults.stateRoot,
  };
  const fallback = values["runtime-dir"] === undefined ? sharedRuntimeFallback(process.env) : undefined;
  if (fallback !== undefined) await claimPrivateDirectory(fallback);
  const forced = parseAcceleratorOverride(values.accel ?? process.env.CLAN_VMD_ACCEL);
  const powerdownSeconds = Number(values["powerdown-timeout"] ?? DEFAULT_STOP_TIMEOUTS.powerdownMs / 1000);
  if (!Number.isFinite(powerdownSeconds) || powerdownSeconds < 0) throw new Error("--powerdown-timeout must be a number of seconds");

  const memoryPercent = Number(values["generation-memory-percent"] ?? DEFAULT_GENERATION_MEMORY_PERCENT);
  if (!Number.isInteger(memoryPercent) || memoryPercent < 1 || memoryPercent > 100) {
    throw new Error("--generation-memory-percent must be a whole number from 1 to 100");
  }

  const qemuBinary = process.env.CLAN_VMD_QEMU ?? "qemu-system-x86_64";
  const namespacesAllowed = canCreateNamespaces(readFileSync("/proc/self/status", "utf8"));
  log(namespacesAllowed ? "VPNs run on the host, one named network namespace per network" : "no CAP_NET_ADMIN and CAP_SYS_ADMIN: VPNs run on the host in rootless namespaces (user namespace and pasta)");
  const storeViews = new PreparedStoreViews(new ClosureCache(), dirname(directories.runtimeRoot));
  let acceleratorChoice: Promise<Accelerator> | undefined;
  const manager = new VmManager(directories, {
    qemuBinary,
    virtiofsdBinary: process.env.CLAN_VMD_VIRTIOFSD ?? "/usr/lib/qemu/virtiofsd",
    dbusDaemonBinary: process.env.CLAN_VMD_DBUS_DAEMON ?? "dbus-daemon",
    storeViews,
    stopTimeouts: { ...DEFAULT_STOP_TIMEOUTS, powerdownMs: powerdownSeconds * 1000 },
    log,
    debugLog: process.env.CLAN_DEBUG ? log : () => undefined,
    wireguardGoBinary: process.env.CLAN_VMD_WIREGUARD_GO ?? "wireguard-go",
    yggdrasilBinary: process.env.CLAN_VMD_YGGDRASIL ?? "yggdrasil",
    canCreateNamespaces: namespacesAllowed,
    hostCapacity: {
      memoryMiB: Math.floor(totalmem() / (1024 * 1024)),
      cores: availableParallelism(),
      generationMemoryPercent: memoryPercent,
    },
    chooseAccelerator: (kernel) => {
      if (forced) return Promise.resolve(forced);
      acceleratorChoice ??= chooseAccelerator({
        qemuBinary,
        kernel,
        cacheFile: join(directories.stateRoot, "..", "accelerator.json"),
      }).then((result) => {
        log(`accelerator: ${result.accelerator} (${result.reason})`);
        return result.accelerator;
      });
      return acceleratorChoice;
    },
  });

  const bus = connectSessionBus();
  let shuttingDown = false;
  const shutdown = async (stopVms: boolean) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (stopVms) {
      log("stopping every VM before exit");
      await manager.stopAll();
    }
    storeViews.endAll();
    bus.disconnect();
    process.exit(0);
  };
  exportVmdApi(bus, manager, (stopVms) => void shutdown(stopVms), log);
  // Adopt before claiming the name: no client can ask for a VM that is about to be re-adopted.
  const adopted = await manager.adoptAll();
  if (adopted.length > 0) log(`re-adopted running VMs: ${adopted.join(", ")}`);
  await claimName(bus, VMD_BUS_NAME);
  log(`serving ${VMD_BUS_NAME}`);
  keepServingAfterUnexpectedErrors(log);
  for (const signalName of ["SIGTERM", "SIGINT"] as const) {
    process.on(signalName, () => void shutdown(values["stop-vms-on-exit"]));
  }
  onBusError(bus, (error) => {
    log(`session bus lost: ${errorMessage(error)}`);
    void shutdown(values["stop-vms-on-exit"]);
  });
}
