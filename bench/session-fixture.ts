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
// `networks` > 2 adds networks net3 … netN on workspaces "13:net3" …, each with a generation of its own that is
// never booted: what a user with many networks configures.

/** The networks past family and club: their names and workspaces. */
export function extraNetworks(count: number): { name: string; workspace: string }[] {
  return Array.from({ length: Math.max(0, count - 2) }, (_, index) => ({ name: `net${index + 3}`, workspace: `${index + 13}:net${index + 3}` }));
}

export interface SessionFixture {
  sway: HeadlessSway;
  stack: SessionStack;
  ipc: IpcClient;
}

/** clan-sessiond with Node's default heap, the shipped launcher's comparison (bench/sessiond-default-heap.js). */
export const DEFAULT_HEAP_SESSIOND = new URL("./sessiond-default-heap.js", import.meta.url).pathname;

/** `sessiondScript` starts clan-sessiond from another script than bin/clan-sessiond.js (DEFAULT_HEAP_SESSIOND). */
export async function withSessionOnSway<T>(body: (fixture: SessionFixture) => Promise<T>, networks = 2, sessiondScript?: string): Promise<T> {
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
    const extra: Record<string, { workspaces: string[]; colour: string; source: { profile: string } }> = {};
    for (const { name, workspace } of extraNetworks(networks)) {
      extra[name] = { workspaces: [workspace], colour: "#5a8f29", source: { profile: await makeGeneration(join(generations, name), { generation: `${name}-1`, vm: { stateDiskMiB: 0 } }) } };
    }
    stack = await startSessionStack({
      config: {
        networks: {
          ...extra,
          family: { workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: await makeGeneration(join(generations, "family"), { generation: "family-1", vm: { stateDiskMiB: 0 } }) } },
          club: { workspaces: ["3:club"], colour: "#b5462f", source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) } },
        },
        switchDebounceMs: 150,
      },
      daemonEnv: { SWAYSOCK: sway.socketPath, XDG_RUNTIME_DIR: sway.runtimeDir },
      sessiondScript,
    });
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
    return await body({ sway, stack, ipc });
  } finally {
    await stopStack();
    await stopSway();
    await removeGenerations();
  }
}
