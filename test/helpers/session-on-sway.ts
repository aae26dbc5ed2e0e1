import type { ConfigInput } from "../../src/session/config/schema.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { startSessionStack, type SessionStack } from "./session-stack.js";
import { startHeadlessSway, type HeadlessSway } from "./sway.js";

// The session the sway end-to-end tests drive: headless sway with normal borders (so that it draws the title bars
// the tests read), the whole session stack attached to it, and an IPC client of the test's own.

export interface SessionOnSway {
  sway: HeadlessSway;
  stack: SessionStack;
  /** The test's client of sway; a test that restarts sway connects a new one here. */
  ipc: IpcClient;
  stop(): Promise<void>;
}

/** `config` is made once sway runs: the tests keep their generations in its runtime directory. */
export async function startSessionOnSway(config: (sway: HeadlessSway) => Promise<ConfigInput>): Promise<SessionOnSway> {
  const sway = await startHeadlessSway({ config: "default_border normal\n" });
  const stack = await startSessionStack({
    config: await config(sway),
    daemonEnv: { SWAYSOCK: sway.socketPath, WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir },
  });
  const session: SessionOnSway = {
    sway,
    stack,
    ipc: await IpcClient.connect({ discover: () => sway.discoverSocket() }),
    async stop() {
      session.ipc.close();
      await stack.stop();
      await sway.stop();
    },
  };
  return session;
}
