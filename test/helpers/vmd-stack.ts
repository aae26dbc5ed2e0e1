import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { startDaemon, type DaemonProcess } from "./daemons.js";
import { startSessionBus, type SessionBus } from "./session-bus.js";

// The real clan-vmd on a private bus with a typed client, as the clan-vmd end-to-end tests all start it: one place
// for its command line, its readiness and the order things are torn down in.

export interface VmdStackOptions {
  /** Prefix of the temporary directory that holds clan-vmd's runtime and state directories. */
  tmpPrefix: string;
  /** clan-vmd's --powerdown-timeout in seconds; 1 unless given. */
  powerdownTimeoutSeconds?: number;
  /** More clan-vmd arguments, after the common ones. */
  extraArgs?: string[];
  /** Runs in the fresh root before clan-vmd starts (files the daemon or its guests are to be shown). */
  prepare?: (root: string) => Promise<void>;
  /** More environment for clan-vmd (CLAN_DEBUG, to have it log each start's timings). */
  env?: Record<string, string>;
  /** Runs on every new client (the first and each `connect()`), e.g. to subscribe to signals. */
  onConnect?: (api: VmdClient) => void;
}

export interface VmdStack {
  bus: SessionBus;
  root: string;
  /** The environment clan-vmd runs with, and that clanctl needs to reach it. */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  /** The clan-vmd process now running (a new one after `startVmd()`). */
  readonly vmd: DaemonProcess;
  readonly client: MessageBus;
  readonly api: VmdClient;
  /** Starts clan-vmd again (after the test stopped it) and waits until it serves. */
  startVmd(): Promise<void>;
  /** A new bus connection and client, after the test disconnected the old one. */
  connect(): Promise<void>;
  /** Stops every VM, the client, clan-vmd and the bus, and removes the root. */
  stop(): Promise<void>;
}

export async function startVmdStack(options: VmdStackOptions): Promise<VmdStack> {
  const bus = await startSessionBus();
  const root = await mkdtemp(join(tmpdir(), options.tmpPrefix));
  const env = { DBUS_SESSION_BUS_ADDRESS: bus.address };
  await options.prepare?.(root);
  const args = [
    "--runtime-dir", join(root, "run"),
    "--state-dir", join(root, "state"),
    "--accel", "tcg",
    "--powerdown-timeout", String(options.powerdownTimeoutSeconds ?? 1),
    ...(options.extraArgs ?? []),
  ];
  let vmd: DaemonProcess | undefined;
  let client: MessageBus;
  let api: VmdClient;
  const startVmd = async () => {
    const started = startDaemon("clan-vmd", args, { ...options.env, ...env });
    vmd = started;
    await started.waitForOutput(/serving org\.clan\.Desktop\.VMs1/);
  };
  const connect = async () => {
    client = sessionBus({ busAddress: bus.address });
    api = await VmdClient.connect(client);
    options.onConnect?.(api);
  };
  try {
    await startVmd();
    await connect();
  } catch (error) {
    await vmd?.stop();
    await bus.stop();
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    bus,
    root,
    env,
    get vmd() {
      return vmd!;
    },
    get client() {
      return client;
    },
    get api() {
      return api;
    },
    startVmd,
    connect,
    async stop() {
      await api.stopAll().catch(() => undefined);
      client.disconnect();
      await vmd?.stop();
      await bus.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
