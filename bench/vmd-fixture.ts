import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { VmdClient } from "../src/shared/vmd-client.js";
import { chooseAccelerator, type ProbeResult } from "../src/vmd/accelerator-probe.js";
import { REPO, startDaemon } from "../test/helpers/daemons.js";
import { startSessionBus } from "../test/helpers/session-bus.js";
import { makeGeneration, testGuestPaths } from "../test/helpers/test-guest.js";
import { registerCleanup } from "./cleanup.js";

// The built clan-vmd on a private session bus, with one generation of the test guest to boot: the setup both
// clan-vmd benchmarks share. The daemon is already up before anything is timed.

export const QEMU = "qemu-system-x86_64";

export interface VmdFixture {
  root: string;
  /** The private session bus clan-vmd serves on, for other daemons and clients of a benchmark. */
  busAddress: string;
  generationDir: string;
  accelerator: ProbeResult;
  api: VmdClient;
  vmdOutput(): string;
}

/** The accelerator clan-vmd would choose, probed once per machine and cached under .cache/. */
export function benchAccelerator(): Promise<ProbeResult> {
  return chooseAccelerator({ qemuBinary: QEMU, kernel: testGuestPaths().kernel, cacheFile: join(REPO, ".cache", "bench", "accelerator.json") });
}

/** `env`: more of clan-vmd's environment (CLAN_DEBUG for each start's timings). */
export async function withVmd<T>(body: (fixture: VmdFixture) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  if (!existsSync(join(REPO, "dist", "vmd", "main.js"))) throw new Error("clan-vmd is not built: run npm run build first");
  const accelerator = await benchAccelerator();
  const root = await mkdtemp(join(tmpdir(), "clan-bench-"));
  const removeRoot = registerCleanup(() => rm(root, { recursive: true, force: true }));
  const bus = await startSessionBus();
  const stopBus = registerCleanup(() => bus.stop());
  // --powerdown-timeout 0: the test guest ignores ACPI, and waiting for it between rounds measures nothing.
  const vmd = startDaemon(
    "clan-vmd",
    ["--runtime-dir", join(root, "vmd", "run"), "--state-dir", join(root, "vmd", "state"), "--accel", accelerator.accelerator,
      "--powerdown-timeout", "0", "--stop-vms-on-exit"],
    { ...env, DBUS_SESSION_BUS_ADDRESS: bus.address },
  );
  const stopVmd = registerCleanup(() => vmd.stop("SIGTERM"));
  let client: MessageBus | undefined;
  let api: VmdClient | undefined;
  const disconnect = registerCleanup(async () => {
    await api?.stopAll().catch(() => undefined);
    client?.disconnect();
  });
  try {
    await vmd.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
    client = sessionBus({ busAddress: bus.address });
    api = await VmdClient.connect(client);
    const generationDir = await makeGeneration(join(root, "generation"), { generation: "bench-1" });
    return await body({ root, busAddress: bus.address, generationDir, accelerator, api, vmdOutput: () => vmd.output() });
  } finally {
    await disconnect();
    await stopVmd();
    await stopBus();
    await removeRoot();
  }
}
