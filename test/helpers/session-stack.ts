import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigInput } from "../../src/session/config/schema.js";
import type { NetworkStatus } from "../../src/shared/session-api.js";
import { SessionClient } from "../../src/shared/session-client.js";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { startDaemon, waitForNetworkStatus, type DaemonProcess } from "./daemons.js";
import { startSessionBus, type SessionBus } from "./session-bus.js";

// The whole back half of a session, for end-to-end tests of clan-sessiond: a private bus, the real clan-vmd and
// clan-sessiond processes, a config file the test may rewrite, and typed clients of both daemons.

export interface SessionStack {
  root: string;
  configFile: string;
  env: Record<string, string>;
  vmd: DaemonProcess;
  sessiond: DaemonProcess;
  session: SessionClient;
  vms: VmdClient;
  writeConfig(config: ConfigInput | string): Promise<void>;
  /** Stops clan-sessiond and starts it again, with `env` changed by `changes` (for it and for clanctl), after
   *  running `whileDown`. */
  restartSessiond(changes?: Record<string, string>, whileDown?: () => Promise<void>): Promise<void>;
  /** Stops clan-vmd (its VMs go on), runs `whileDown`, and starts it again; it re-adopts its VMs. */
  restartVmd(whileDown?: () => Promise<void>): Promise<void>;
  /** Resolves when the network's published status satisfies `predicate`. */
  waitForNetwork(name: string, predicate: (status: NetworkStatus) => boolean, timeoutMs?: number): Promise<NetworkStatus>;
  stop(): Promise<void>;
}

export interface SessionStackOptions {
  config: ConfigInput;
  daemonEnv: Record<string, string>;
  /** Starts clan-sessiond from this script instead of bin/clan-sessiond.js (a benchmark's comparison). */
  sessiondScript?: string;
}

export async function startSessionStack(options: SessionStackOptions): Promise<SessionStack> {
  const bus: SessionBus = await startSessionBus();
  const root = await mkdtemp(join(tmpdir(), "clan-session-e2e-"));
  const configFile = join(root, "config", "config.json");
  await mkdir(join(root, "config"), { recursive: true });
  // The bar socket in the stack's own directory: stacks that run side by side must not replace each other's.
  const env = { DBUS_SESSION_BUS_ADDRESS: bus.address, CLAN_DESKTOP_CONFIG: configFile, CLAN_BAR_SOCKET: join(root, "bar", "bar.sock"), ...options.daemonEnv };
  const writeConfig = (config: ConfigInput | string) =>
    writeFile(configFile, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  await writeConfig(options.config);

  const launchVmd = async () => {
    const daemon = startDaemon("clan-vmd", ["--runtime-dir", join(root, "run"), "--state-dir", join(root, "state"), "--accel", "tcg", "--powerdown-timeout", "1"], env);
    await daemon.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
    return daemon;
  };
  let vmd = await launchVmd();
  const launchSessiond = async () => {
    const daemon = startDaemon("clan-sessiond", [], env, options.sessiondScript);
    await daemon.waitForOutput(/serving org\.clan\.Desktop\.Session1/);
    return daemon;
  };
  let sessiond = await launchSessiond();
  const clientBus: MessageBus = sessionBus({ busAddress: bus.address });
  const session = await SessionClient.connect(clientBus);
  const vms = await VmdClient.connect(clientBus);

  return {
    root,
    configFile,
    env,
    get vmd() {
      return vmd;
    },
    get sessiond() {
      return sessiond;
    },
    session,
    vms,
    writeConfig,
    async restartSessiond(changes = {}, whileDown) {
      await sessiond.stop();
      await whileDown?.();
      Object.assign(env, changes);
      sessiond = await launchSessiond();
    },
    async restartVmd(whileDown) {
      await vmd.stop();
      await whileDown?.();
      vmd = await launchVmd();
    },
    waitForNetwork: (name, predicate, timeoutMs) => waitForNetworkStatus(session, name, predicate, timeoutMs),
    async stop() {
      // clan-sessiond first: while it runs it starts the focused network's VM again after stopAll.
      await sessiond.stop();
      await vms.stopAll().catch(() => undefined);
      clientBus.disconnect();
      await vmd.stop();
      await bus.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
