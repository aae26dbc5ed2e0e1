import { DBusError, Variant, type MessageBus } from "@jellybrick/dbus-next";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportSessionApi, type SessionApiDependencies } from "../../src/session/dbus-service.js";
import { exportVmdApi } from "../../src/vmd/dbus-service.js";
import { PreparedStoreViews } from "../../src/vmd/prepared-store-views.js";
import { ClosureCache } from "../../src/vmd/closure-cache.js";
import { DEFAULT_STOP_TIMEOUTS } from "../../src/vmd/stop-escalation.js";
import { VmManager } from "../../src/vmd/vm-manager.js";
import { forEachCase, text, value, type Random } from "./hostile-input.js";

// The method arguments a peer on the session bus chooses, fed to clan-vmd's real D-Bus interface over a real
// VmManager (no VM runs) and to clan-sessiond's interface: every call answers or fails with a named
// org.clan.Desktop.Error, never Internal and never an exception that escapes the method.

type Method = (...args: unknown[]) => unknown;

let root: string;
let vmdMethods: Record<string, Method>;

function name(random: Random): string {
  return random.next() < 0.5 ? random.pick(["alpha", "a-b", "x", "z9"]) : text(random, 40);
}

function overrides(random: Random): Record<string, unknown> {
  const raw = value(random);
  const entries = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? Object.entries(raw) : [["memoryMiB", raw]];
  return Object.fromEntries(entries.map(([key, item]) => [key, random.next() < 0.5 ? new Variant("v", item) : item]));
}

async function expectNamedError(call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(DBusError);
    expect((error as DBusError).type).toMatch(/^org\.clan\.Desktop\.Error\.(?!Internal$)/);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-dbus-fuzz-"));
  const manager = new VmManager(
    { runtimeRoot: join(root, "run"), stateRoot: join(root, "state") },
    {
      qemuBinary: "/nonexistent/qemu",
      virtiofsdBinary: "/nonexistent/virtiofsd",
      dbusDaemonBinary: "/nonexistent/dbus-daemon",
      chooseAccelerator: () => Promise.resolve("tcg"),
      stopTimeouts: DEFAULT_STOP_TIMEOUTS,
      log: () => undefined,
      debugLog: () => undefined,
      wireguardGoBinary: "/nonexistent/wireguard-go",
      yggdrasilBinary: "/nonexistent/yggdrasil",
      canCreateNamespaces: false,
      hostCapacity: { memoryMiB: 4096, cores: 2, generationMemoryPercent: 50 },
      storeViews: new PreparedStoreViews(new ClosureCache(), root),
    },
  );
  const exported: Record<string, Method>[] = [];
  const bus = { export: (_path: string, iface: Record<string, Method>) => exported.push(iface) } as unknown as MessageBus;
  exportVmdApi(bus, manager, () => undefined, () => undefined);
  const [managerInterface] = exported;
  vmdMethods = Object.fromEntries(
    ["Start", "PrepareStart", "ReleaseStoreView", "Stop", "Pause", "Resume", "ConsoleTail", "GuestExec", "GuestFreezeStatus", "Peers", "BlockPeer", "UnblockPeer"].map((method) => [
      method,
      (...args: unknown[]) => (managerInterface![method] as Method).apply(managerInterface, args),
    ]),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("clan-vmd's D-Bus methods under hostile arguments", () => {
  it("answer or fail with a named error for 1,000 generated calls", async () => {
    const calls: (() => unknown)[] = [];
    forEachCase((random) => {
      const network = name(random);
      const generation = random.pick(["/nonexistent", join(root, "missing"), text(random, 30), ""]);
      calls.push(
        random.pick([
          () => vmdMethods.Start!(network, generation, overrides(random)),
          () => vmdMethods.PrepareStart!(network, generation, overrides(random)),
          () => vmdMethods.ReleaseStoreView!(network),
          () => vmdMethods.Stop!(network),
          () => vmdMethods.Pause!(network),
          () => vmdMethods.Resume!(network),
          () => vmdMethods.ConsoleTail!(network, random.pick([0, 1, 2 ** 32 - 1])),
          () => vmdMethods.GuestExec!(network, Array.from({ length: random.int(3) }, () => text(random, 20)), random.int(5)),
          () => vmdMethods.GuestFreezeStatus!(network),
          () => vmdMethods.Peers!(network),
          () => vmdMethods.BlockPeer!(network, text(random, 60)),
          () => vmdMethods.UnblockPeer!(network, text(random, 60)),
        ]),
      );
    });
    for (const call of calls) await expectNamedError(call);
  });
});

describe("clan-sessiond's D-Bus methods under hostile arguments", () => {
  it("fail with a named error for 1,000 generated calls on unknown networks and workspaces", async () => {
    // No network is configured: every action must be refused at the name, before any of these runs.
    const refuse = () => Promise.reject(new Error("an action ran for a network that does not exist"));
    const unreachable = new Proxy({}, { get: () => refuse });
    const deps = {
      registry: { get: () => undefined, list: () => [], on: () => undefined },
      generations: unreachable,
      vmd: () => unreachable,
      backups: unreachable,
      jobs: new Proxy({}, { get: (_target, key) => (key === "runner" ? { on: () => undefined } : refuse) }),
      session: { start: refuse, stop: refuse, pause: refuse, switchTo: refuse, focusReported: () => undefined, on: () => undefined },
      applications: unreachable,
      figures: unreachable,
      buildLogBatches: unreachable,
      callers: { current: () => ":1.99" },
    } as unknown as SessionApiDependencies;
    const exported: Record<string, Method>[] = [];
    exportSessionApi({ export: (_path: string, iface: Record<string, Method>) => exported.push(iface) } as unknown as MessageBus, deps);
    const session = exported[0]!;
    const methods = ["GetNetwork", "Start", "Stop", "Pause", "Switch", "Rebuild", "StartRebuild", "StartBackup", "Generations", "BuildLog", "CheckUpdate", "Peers", "BackupNow", "Backups", "NetworkApplications", "NetworkUpdatePolicy", "Figures", "WatchFigures", "ConsoleLog"];
    const calls: (() => unknown)[] = [];
    forEachCase((random) => {
      const network = name(random);
      calls.push(
        random.pick([
          () => (session[random.pick(methods)] as Method).call(session, network),
          () => session.Rollback!.call(session, network, random.pick([-1, 0, 2 ** 31 - 1])),
          () => session.BlockPeer!.call(session, network, text(random, 60)),
          () => session.Restore!.call(session, network, text(random, 60)),
          () => session.StartRestore!.call(session, network, text(random, 60)),
          () => session.StartRebuildRevision!.call(session, network, text(random, 60)),
          () => session.WorkspaceFocused!.call(session, random.next() < 0.2 ? "w".repeat(5000) : text(random, 60)),
        ]),
      );
    });
    for (const call of calls) await expectNamedError(call);
  });
});
