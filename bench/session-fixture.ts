import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IpcClient } from "../src/sway/ipc/client.js";
import { startSessionStack, type SessionStack } from "../test/helpers/session-stack.js";
import { startHeadlessSway, type HeadlessSway } from "../test/helpers/sway.js";
import { makeGeneration } from "../test/helpers/test-guest.js";
import { registerCleanup } from "./cleanup.js";

// Real headless sway, clan-vmd and clan-sessiond with two networks of the test guest: what the session
// benchmarks switch between. Workspace "2:family" belongs to family, "3:club" to club, "1" to none.

export interface SessionFixture {
  sway: HeadlessSway;
  stack: SessionStack;
  ipc: IpcClient;
}

export async function withSessionOnSway<T>(body: (fixture: SessionFixture) => Promise<T>): Promise<T> {
  const generations = await mkdtemp(join(tmpdir(), "clan-bench-generations-"));
  const removeGenerations = registerCleanup(() => rm(generations, { recursive: true, force: true }));
  const sway = await startHeadlessSway();
  const stopSway = registerCleanup(() => sway.stop());
  let stack: SessionStack | undefined;
  let ipc: IpcClient | undefined;
  const stopStack = registerCleanup(async () => {
    ipc?.close();
    await stack?.stop();
  });
  try {
    stack = await startSessionStack({
      config: {
        networks: {
          family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: await makeGeneration(join(generations, "family"), { generation: "family-1", vm: { stateDiskMiB: 0 } }) } },
          club: { workspaces: ["3:club"], colour: "#b5462f", source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) } },
        },
        switchDebounceMs: 150,
      },
      daemonEnv: { SWAYSOCK: sway.socketPath, XDG_RUNTIME_DIR: sway.runtimeDir },
    });
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
    return await body({ sway, stack, ipc });
  } finally {
    await stopStack();
    await stopSway();
    await removeGenerations();
  }
}
