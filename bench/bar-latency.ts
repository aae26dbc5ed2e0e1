import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sessionBus } from "@jellybrick/dbus-next";
import { execa } from "execa";
import type { NetworkStatus } from "../src/shared/session-api.js";
import { SessionClient } from "../src/shared/session-client.js";
import { REPO, startDaemon } from "../test/helpers/daemons.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { registerCleanup } from "./cleanup.js";
import { median, percentile } from "./stats.js";
import { withVmd } from "./vmd-fixture.js";

// How long the bar lags behind clan-sessiond: a real state change (Pause, then Start, which resumes, of a
// running test-guest VM through clan-sessiond's D-Bus API) until `clan-bar-relay waybar` — the processes a bar
// runs, fed by clan-sessiond over its bar socket — has written the line that shows it. Timed in this process,
// from the moment clan-sessiond's NetworkChanged signal reaches a client of the same bus (clan-sessiond writes
// the bar's line when it sends that signal), and, for context, from the call that caused the change.

const NETWORK = "bench";

type Shown = "paused" | "running";

interface Waiter {
  state: Shown;
  done: (at: number) => void;
}

export const barLatencyBenchmark: Benchmark = {
  name: "bar-latency",
  summary: "clan-sessiond's NetworkChanged until clan-bar-relay (waybar format) writes the line",
  async run({ resumes }) {
    return withVmd(async ({ root, busAddress, generationDir }) => {
      const configFile = join(root, "config.json");
      const config = { networks: { [NETWORK]: { workspaces: ["1:bench"], colour: "#2e7dbf", source: { profile: generationDir } } } };
      await writeFile(configFile, JSON.stringify(config));
      const env = { DBUS_SESSION_BUS_ADDRESS: busAddress, CLAN_BAR_SOCKET: join(root, "bar", "bar.sock") };
      const sessiond = startDaemon("clan-sessiond", ["--backend", "none", "--config", configFile], env);
      const stopSessiond = registerCleanup(() => sessiond.stop("SIGTERM"));
      const bar = execa(join(REPO, "bin", "clan-bar-relay"), ["waybar", NETWORK], {
        env: { ...process.env, ...env },
        reject: false,
        stdin: "ignore",
      });
      const stopBar = registerCleanup(async () => {
        bar.kill("SIGTERM");
        await bar;
      });
      const client = sessionBus({ busAddress });
      const disconnect = registerCleanup(async () => client.disconnect());

      // Both streams of events resolve whoever waits for that state; every arrival is timed as it is handled.
      const signalWaiters: Waiter[] = [];
      const lineWaiters: Waiter[] = [];
      const arrive = (waiters: Waiter[], state: string, at: number) => {
        for (let index = waiters.length - 1; index >= 0; index--) {
          if (waiters[index]!.state === state) waiters.splice(index, 1)[0]!.done(at);
        }
      };
      const next = (waiters: Waiter[], state: Shown) => new Promise<number>((done) => waiters.push({ state, done }));
      let pending = "";
      bar.stdout.setEncoding("utf8");
      bar.stdout.on("data", (chunk: string) => {
        const at = performance.now();
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) arrive(lineWaiters, (JSON.parse(line) as { alt: string }).alt, at);
      });
      try {
        await sessiond.waitForOutput(/serving org\.clan\.Desktop\.Session1/);
        const session = await SessionClient.connect(client);
        const unsubscribe = session.onNetworkChanged(
          (status: NetworkStatus) => {
            if (status.name === NETWORK) arrive(signalWaiters, status.vmState, performance.now());
          },
          (error) => {
            throw error;
          },
        );
        const shownRunning = next(lineWaiters, "running");
        await session.start(NETWORK);
        await shownRunning;

        const fromSignal: number[] = [];
        const fromCall: number[] = [];
        const callToSignal: number[] = [];
        const change = async (to: Shown, act: () => Promise<void>, measured: boolean) => {
          const signal = next(signalWaiters, to);
          const line = next(lineWaiters, to);
          const calledAt = performance.now();
          await act();
          const [signalAt, lineAt] = await Promise.all([signal, line]);
          if (!measured) return;
          fromSignal.push(lineAt - signalAt);
          fromCall.push(lineAt - calledAt);
          callToSignal.push(signalAt - calledAt);
        };
        // The first cycles are warm-up: match rules settle, both processes' code paths get compiled.
        const warmUp = 10;
        for (let cycle = 0; cycle < warmUp + resumes; cycle++) {
          await change("paused", () => session.pause(NETWORK), cycle >= warmUp);
          await change("running", () => session.start(NETWORK), cycle >= warmUp);
        }
        unsubscribe();
        return {
          parameters: { cycles: resumes, changes: fromSignal.length, warmUp },
          measurements: [
            withGoal({ metric: "signal→line median", value: median(fromSignal), unit: "ms" }, 20),
            withGoal({ metric: "signal→line p99", value: percentile(fromSignal, 0.99), unit: "ms" }, 20),
            { metric: "signal→line max", value: Math.max(...fromSignal), unit: "ms" },
            { metric: "call→signal median", value: median(callToSignal), unit: "ms" },
            { metric: "call→line median", value: median(fromCall), unit: "ms" },
            { metric: "call→line p99", value: percentile(fromCall, 0.99), unit: "ms" },
          ],
          samples: { signalToLineMs: fromSignal, callToLineMs: fromCall, callToSignalMs: callToSignal },
        };
      } finally {
        await disconnect();
        await stopBar();
        await stopSessiond();
      }
    });
  },
};
