import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sessionBus } from "@jellybrick/dbus-next";
import { execa } from "execa";
import type { NetworkStatus } from "../src/shared/session-api.js";
import { SessionClient } from "../src/shared/session-client.js";
import { REPO, startDaemon } from "../test/helpers/daemons.js";
import { type Benchmark, type Measurement, withGoal } from "./benchmark.js";
import { registerCleanup } from "./cleanup.js";
import { median } from "./stats.js";
import { withVmd } from "./vmd-fixture.js";

// What clan-sessiond's work costs as the number of configured networks grows (issue #18, goal 5): with 1, 10 and
// 50 networks, the real clan-sessiond (`--backend none`) and clan-vmd on a private bus, and `clanctl bar --format
// i3bar` (all networks, one block each) as a bar runs it. No VM boots: the networks' profiles all point at one
// generation that is never started. Per size, after warm-up rounds:
//   status      — a ListNetworks call (what `clanctl status` asks for), call to reply;
//   reload      — a ReloadConfig call after one network's colour changed in the file, call to reply;
//   bar update  — from that network's NetworkChanged reaching this process to the bar's next line (both receive
//                 the signal at once and decode it in parallel, so a sample can be slightly negative).
// "Linear at worst": with N networks a cost may be at most N times its cost with one (a line through zero and the
// one-network cost bounds it). The step from 10 to 50 is printed too, without a goal: sub-millisecond medians on a
// loaded machine make a ratio of two of them mostly noise.

const SIZES = [1, 10, 50] as const;
const WARM_UP = 10;

interface SizeResult {
  networks: number;
  statusMs: number[];
  reloadMs: number[];
  barMs: number[];
}

/** Fails the benchmark instead of hanging when an awaited line or signal never comes. */
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within 10 s`)), 10_000)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function configFor(size: number, profile: string, round: number) {
  const networks: Record<string, unknown> = {};
  for (let index = 1; index <= size; index++) {
    // Network 1's colour alternates each round: the one change the reload carries.
    const colour = index === 1 && round % 2 === 1 ? "#b5462f" : "#2e7dbf";
    networks[`net${index}`] = { workspaces: [`${index}:net${index}`], colour, source: { profile } };
  }
  return { networks };
}

async function measureSize(size: number, rounds: number, busAddress: string, root: string, profile: string): Promise<SizeResult> {
  const configFile = join(root, `scaling-${size}.json`);
  await writeFile(configFile, JSON.stringify(configFor(size, profile, 0)));
  // The bar's socket, which clan-sessiond serves and the bar's relay reads (docs/bar.md): without it the bar
  // never prints a line.
  const env = { DBUS_SESSION_BUS_ADDRESS: busAddress, CLAN_BAR_SOCKET: join(root, `bar-${size}`, "bar.sock") };
  const sessiond = startDaemon("clan-sessiond", ["--backend", "none", "--config", configFile], env);
  const stopSessiond = registerCleanup(() => sessiond.stop("SIGTERM"));
  await sessiond.waitForOutput(/serving org\.clan\.Desktop\.Session1/);
  const bar = execa("node", [join(REPO, "bin", "clanctl.js"), "bar", "--format", "i3bar"], { env: { ...process.env, ...env }, reject: false, stdin: "pipe" });
  const stopBar = registerCleanup(async () => {
    bar.kill("SIGTERM");
    await bar;
  });
  const client = sessionBus({ busAddress });
  const disconnect = registerCleanup(async () => client.disconnect());
  try {
    let nextLine: ((at: number) => void) | undefined;
    let linesSeen = 0;
    bar.stdout!.setEncoding("utf8");
    bar.stdout!.on("data", (chunk: string) => {
      const at = performance.now();
      for (const character of chunk) {
        if (character !== "\n") continue;
        linesSeen++;
        const waiter = nextLine;
        nextLine = undefined;
        waiter?.(at);
      }
    });
    const session = await SessionClient.connect(client);
    let nextSignal: ((at: number) => void) | undefined;
    const unsubscribe = session.onNetworkChanged(
      (status: NetworkStatus) => {
        if (status.name !== "net1") return;
        const waiter = nextSignal;
        nextSignal = undefined;
        waiter?.(performance.now());
      },
      (error) => {
        throw error;
      },
    );
    // The bar's header and first status line.
    await bounded(
      (async () => {
        while (linesSeen < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      "first status line from the bar",
    );

    const result: SizeResult = { networks: size, statusMs: [], reloadMs: [], barMs: [] };
    for (let round = 1; round <= WARM_UP + rounds; round++) {
      const measured = round > WARM_UP;
      const statusFrom = performance.now();
      const listed = await session.listNetworks();
      const statusMs = performance.now() - statusFrom;
      if (listed.length !== size) throw new Error(`ListNetworks gave ${listed.length} networks, not ${size}`);

      await writeFile(configFile, JSON.stringify(configFor(size, profile, round)));
      // Both armed before the call: the bar may write its line before this process has handled the signal.
      const signal = new Promise<number>((resolve) => (nextSignal = resolve));
      const line = new Promise<number>((resolve) => (nextLine = resolve));
      const reloadFrom = performance.now();
      await session.reloadConfig();
      const reloadMs = performance.now() - reloadFrom;
      const [signalAt, lineAt] = await bounded(Promise.all([signal, line]), `net1's NetworkChanged and the bar's line with ${size} networks`);
      if (!measured) continue;
      result.statusMs.push(statusMs);
      result.reloadMs.push(reloadMs);
      result.barMs.push(lineAt - signalAt);
    }
    unsubscribe();
    return result;
  } finally {
    await disconnect();
    await stopBar();
    await stopSessiond();
  }
}

export const sessionScalingBenchmark: Benchmark = {
  name: "session-scaling",
  summary: "status, bar update and config reload with 1, 10 and 50 networks: linear at worst",
  async run({ rounds }) {
    const perSize = Math.max(30, rounds * 6);
    return withVmd(async ({ root, busAddress, generationDir }) => {
      const results: SizeResult[] = [];
      for (const size of SIZES) results.push(await measureSize(size, perSize, busAddress, root, generationDir));
      const measurements: Measurement[] = [];
      const samples: Record<string, number[]> = {};
      for (const [what, key] of [["status", "statusMs"], ["reload", "reloadMs"], ["bar update", "barMs"]] as const) {
        const medians = results.map((result) => median(result[key]));
        results.forEach((result, index) => {
          measurements.push({ metric: `${what}, ${result.networks} network${result.networks === 1 ? "" : "s"}, median`, value: medians[index]!, unit: "ms" });
          samples[`${key}With${result.networks}`] = result[key];
        });
        for (let index = 1; index < results.length; index++) {
          const [from, to] = [results[0]!.networks, results[index]!.networks];
          measurements.push(withGoal({ metric: `${what}: ${to} ÷ ${from} network`, value: medians[index]! / medians[0]!, unit: "×" }, to / from));
        }
        const [last, beforeLast] = [results.length - 1, results.length - 2];
        measurements.push({ metric: `${what}: ${results[last]!.networks} ÷ ${results[beforeLast]!.networks} networks`, value: medians[last]! / medians[beforeLast]!, unit: "×" });
      }
      return { parameters: { sizes: SIZES.join(", "), roundsPerSize: perSize, warmUp: WARM_UP }, measurements, samples };
    });
  },
};
