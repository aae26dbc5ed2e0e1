import type { NetworkStatus } from "../../src/shared/session-api.js";
import type { SessionClient } from "../../src/shared/session-client.js";
import { execa, type ResultPromise } from "execa";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

// Runs the built daemons and clanctl as real processes (npm run build puts them in dist/), collecting their
// stderr so that a failing test shows what the daemon said.

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface DaemonProcess {
  process: ResultPromise;
  output: () => string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `script` replaces bin/`bin`.js, for a benchmark that compares another way of starting the same daemon. */
export function startDaemon(bin: string, args: string[], env: Record<string, string>, script = `${REPO}/bin/${bin}.js`): DaemonProcess {
  let output = "";
  const child = execa("node", [script, ...args], {
    env: { ...process.env, ...env },
    reject: false,
    stdin: "ignore",
    all: true,
  });
  child.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (process.env.CLAN_TEST_VERBOSE) process.stderr.write(chunk);
  });
  return {
    process: child,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = output.match(pattern);
        if (match) return match[0];
        if (child.exitCode !== null) throw new Error(`${bin} exited (${child.exitCode}) before printing ${pattern}:\n${output}`);
        await sleep(20);
      }
      throw new Error(`${bin} did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await child;
    },
  };
}

export async function clanctl(args: string[], env: Record<string, string>) {
  return execa("node", [`${REPO}/bin/clanctl.js`, ...args], { env: { ...process.env, ...env }, reject: false, all: true });
}

export async function waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Polls clan-sessiond until `name`'s status satisfies `predicate`; a timeout says what the status last was. */
export async function waitForNetworkStatus(
  session: SessionClient,
  name: string,
  predicate: (status: NetworkStatus) => boolean,
  timeoutMs = 30_000,
): Promise<NetworkStatus> {
  let last: NetworkStatus | undefined;
  try {
    return await waitUntil(async () => {
      last = await session.getNetwork(name);
      return predicate(last) ? last : undefined;
    }, `network ${name} to reach the expected state`, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last status: ${JSON.stringify(last)}`);
  }
}
