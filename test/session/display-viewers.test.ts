import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/session/config/schema.js";
import { DisplayViewers } from "../../src/session/display-viewers.js";
import { NetworkRegistry } from "../../src/session/network-registry.js";
import type { BackendEvents, WindowManagerBackend, WindowPlacement } from "../../src/session/window-manager-backend.js";
import { VmStatus } from "../../src/shared/vm-api.js";
import { waitFor } from "../helpers/processes.js";

// How clan-sessiond starts, claims and stops a VM's waypipe client, and how it refuses when it cannot. The real
// waypipe on real sway is test/session/waypipe.e2e.test.ts; here a stand-in script records its argv and starts
// a child, as waypipe client forks one per session, so that stopping the whole process group is visible.

const STAND_IN = `#!/bin/sh
printf '%s\\n' "$@" >"$RECORD.args"
sleep 600 &
echo $! >"$RECORD.child"
wait
`;

class RecordingBackend extends EventEmitter<BackendEvents> implements WindowManagerBackend {
  readonly kind = "recording";
  readonly claims = new Map<number, WindowPlacement>();
  focusedWorkspace = async () => undefined;
  focusWorkspace = async () => undefined;
  async claimWindowsOf(pid: number, placement: WindowPlacement): Promise<void> {
    this.claims.set(pid, placement);
  }
  releaseWindowsOf(pid: number): void {
    this.claims.delete(pid);
  }
  close = async () => undefined;
}

describe("DisplayViewers with a waypipe display", () => {
  let dir: string;
  let logs: string[];
  let backend: RecordingBackend;
  let viewers: DisplayViewers | undefined;
  let pidChanges: Record<string, number>[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-viewers-"));
    logs = [];
    pidChanges = [];
    backend = new RecordingBackend();
    await writeFile(join(dir, "waypipe"), STAND_IN, { mode: 0o755 });
    process.env.RECORD = join(dir, "record");
  });

  afterEach(async () => {
    viewers?.closeAll();
    delete process.env.RECORD;
    await rm(dir, { recursive: true, force: true });
  });

  function start(options: { runtimeDir?: string | undefined; waypipeBinary?: string } = {}): DisplayViewers {
    const registry = new NetworkRegistry();
    registry.applyConfig(
      ConfigSchema.parse({
        networks: { family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: "/p/family" } } },
      }),
    );
    viewers = new DisplayViewers({
      registry,
      backend: () => backend,
      viewerBinary: "remote-viewer",
      waypipeBinary: options.waypipeBinary ?? join(dir, "waypipe"),
      runtimeDir: "runtimeDir" in options ? options.runtimeDir : join(dir, "run", "clan-sessiond"),
      pidsChanged: () => pidChanges.push(viewers!.pids()),
      log: (message) => logs.push(message),
    });
    return viewers;
  }

  const vm = (state: VmStatus["state"]): VmStatus =>
    VmStatus.parse({
      network: "family",
      state,
      generation: "/g",
      pid: 1,
      accelerator: "tcg",
      since: 0,
      error: "",
      display: "waypipe",
      displaySocket: join(dir, "vm", "waypipe.sock"),
    });

  it("starts `waypipe --no-gpu -s <its socket> client` in a private directory and claims its windows by pid", async () => {
    const displays = start();
    displays.vmChanged(vm("running"));
    const pid = displays.pidOf("family");
    expect(pid).toBeGreaterThan(0);
    const args = await waitFor("the stand-in's argv", () => readFile(join(dir, "record.args"), "utf8").catch(() => undefined));
    const socket = join(dir, "run", "clan-sessiond", "family-waypipe.sock");
    expect(args.trim().split("\n")).toEqual(["--no-gpu", "-s", socket, "client"]);
    expect((await stat(join(dir, "run", "clan-sessiond"))).mode & 0o777).toBe(0o700);
    expect(backend.claims.get(pid!)).toEqual({ network: "family", workspace: "2:family", label: "Family", colour: "#2e7dbf" });
  });

  it("stops the client and the children it forked when the VM stops, and releases its windows", async () => {
    const displays = start();
    displays.vmChanged(vm("running"));
    const pid = displays.pidOf("family")!;
    const child = Number(await waitFor("the stand-in's child", () => readFile(join(dir, "record.child"), "utf8").catch(() => undefined)));
    displays.vmChanged(vm("stopping"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(backend.claims.has(pid)).toBe(false);
    // Published for window managers that place windows themselves (GNOME's ViewerPids property).
    expect(pidChanges).toEqual([{ family: pid }, {}]);
    await waitFor("the client and its child to exit", () => (!isRunning(pid) && !isRunning(child) ? true : undefined));
  });

  it("makes a runtime directory that others could read private again", async () => {
    await mkdir(join(dir, "run", "clan-sessiond"), { recursive: true, mode: 0o755 });
    await chmod(join(dir, "run", "clan-sessiond"), 0o755);
    start().vmChanged(vm("running"));
    expect((await stat(join(dir, "run", "clan-sessiond"))).mode & 0o777).toBe(0o700);
  });

  it("says why it shows nothing without XDG_RUNTIME_DIR", () => {
    const displays = start({ runtimeDir: undefined });
    displays.vmChanged(vm("running"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(logs).toEqual([expect.stringMatching(/family: cannot show the VM's waypipe display: XDG_RUNTIME_DIR is not set/)]);
  });

  it("refuses a socket path longer than a unix socket address holds", () => {
    const displays = start({ runtimeDir: join(dir, "x".repeat(100)) });
    displays.vmChanged(vm("running"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(logs.join("\n")).toMatch(/longer than 107 bytes/);
  });

  it("logs a missing waypipe binary and tries again when the user enters the network", async () => {
    const displays = start({ waypipeBinary: join(dir, "no-such-waypipe") });
    displays.vmChanged(vm("running"));
    await waitFor("the failure to be logged", () => (logs.some((line) => line.includes("ENOENT")) ? true : undefined));
    expect(displays.pidOf("family")).toBeUndefined();
    displays.networkEntered("family");
    await waitFor("the second attempt", () => (logs.filter((line) => line.includes("ENOENT")).length === 2 ? true : undefined));
    expect(logs.join("\n")).not.toMatch(/waypipe bridge/);
  });
});

/** A zombie counts as exited: an orphaned child is reaped by whatever PID 1 this machine has, if any. */
function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
}
